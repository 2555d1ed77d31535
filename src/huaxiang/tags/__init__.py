"""Tags: the documented labels of a profile, computed from traits by rules, statistics or models.

``load_catalogue`` assembles the standard library and the workspace's own definitions; ``build_profiles``
computes every trait and tag as of a moment and keeps a version where values changed; ``profile_card``,
``tag_distribution`` and ``changes_since`` read the result.
"""

from __future__ import annotations

from huaxiang.tags.build import BuildReport, build_profiles, parse_as_of
from huaxiang.tags.compute import compile_tags, evaluate_tag
from huaxiang.tags.definitions import DIMENSIONS, RFM_GROUPS, Tag
from huaxiang.tags.library import Catalogue, Skipped, load_catalogue, standard_library
from huaxiang.tags.profiles import ProfileCard, find_person, profile_card
from huaxiang.tags.reports import ChangeReport, Distribution, changes_since, tag_distribution

__all__ = [
    "DIMENSIONS",
    "RFM_GROUPS",
    "BuildReport",
    "Catalogue",
    "ChangeReport",
    "Distribution",
    "ProfileCard",
    "Skipped",
    "Tag",
    "build_profiles",
    "changes_since",
    "compile_tags",
    "evaluate_tag",
    "find_person",
    "load_catalogue",
    "parse_as_of",
    "profile_card",
    "standard_library",
    "tag_distribution",
]
