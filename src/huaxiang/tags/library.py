"""The catalogue of a workspace: the standard library's traits and tags merged with the user's, checked.

The standard library (``standard.yaml``, documented in docs/tags.md) is on by default. It declares the
event vocabulary it expects; a field this workspace does not map reads as NULL, so the library is valid
everywhere. A user definition with the same name replaces the standard one. A standard definition that
still cannot be used here (a field mapped with another type) is skipped and reported, never fatal; a
user's broken definition stops the build with its location.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources
from string import Template
from typing import Any, Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import TypeAdapter, ValidationError

from huaxiang.config import CONFIG_FILE, Config, LifecycleSpec, TagSpec, TraitSpec
from huaxiang.errors import ConfigError, HuaxiangError, NotFoundError
from huaxiang.expressions import ValueType
from huaxiang.expressions.parse import _suggest
from huaxiang.tags.definitions import DIMENSIONS, Tag, resolve_tag, tag_levels
from huaxiang.tags.model_outputs import ModelOutputSpec
from huaxiang.traits import EventField, Trait, event_fields, resolve_trait
from huaxiang.traits.referral_graph import REFERRAL_TRAITS, GraphTrait

log = logging.getLogger(__name__)

STANDARD_FILE = "standard.yaml"
_STANDARD = f"huaxiang/tags/{STANDARD_FILE}"


@dataclass(frozen=True, slots=True)
class Skipped:
    """A standard definition left out of this workspace, and why."""

    what: Literal["trait", "tag"]
    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class StandardLibrary:
    fields: dict[str, ValueType]
    traits: list[TraitSpec]
    tags: list[TagSpec]
    model_outputs: list[ModelOutputSpec]


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Every trait and tag a build computes, checked, with the event fields they read."""

    traits: tuple[Trait, ...]
    tags: tuple[Tag, ...]
    fields: dict[str, EventField]
    skipped: tuple[Skipped, ...] = ()
    model_outputs: tuple[ModelOutputSpec, ...] = ()
    graph: tuple[GraphTrait, ...] = ()  # traits over the referral graph, computed across persons at build

    @property
    def names(self) -> dict[str, ValueType]:
        """Trait, model output and tag names with their types: what segment and tag rules are checked against."""
        traits: dict[str, ValueType] = {t.name: t.type for t in self.traits}
        traits |= {g.name: g.type for g in self.graph}
        return (
            traits | {o.name: o.type for o in self.model_outputs} | {t.name: t.value_type for t in self.tags}
        )

    @property
    def columns(self) -> list[str]:
        """A profile's value columns in build order: traits, graph traits, model outputs, tags."""
        return (
            [t.name for t in self.traits]
            + [g.name for g in self.graph]
            + [o.name for o in self.model_outputs]
            + [t.name for t in self.tags]
        )

    def tag(self, name: str) -> Tag:
        for tag in self.tags:
            if tag.name == name:
                return tag
        raise NotFoundError(
            f"no tag named {name!r}", hint=_suggest(name, [t.name for t in self.tags], what="tags")
        )

    def trait(self, name: str) -> Trait:
        for trait in self.traits:
            if trait.name == name:
                return trait
        raise NotFoundError(
            f"no trait named {name!r}", hint=_suggest(name, [t.name for t in self.traits], what="traits")
        )

    def tags_by_dimension(self) -> dict[str, list[Tag]]:
        grouped: dict[str, list[Tag]] = {d: [] for d in DIMENSIONS}
        for tag in self.tags:
            grouped[tag.dimension].append(tag)
        return {d: tags for d, tags in grouped.items() if tags}


def standard_library(lifecycle: LifecycleSpec) -> StandardLibrary:
    """The shipped library with the workspace's lifecycle thresholds filled in."""
    text = resources.files("huaxiang.tags").joinpath(STANDARD_FILE).read_text(encoding="utf-8")
    filled = Template(text).substitute(lifecycle.model_dump())
    data: dict[str, Any] = yaml.safe_load(filled)
    try:
        traits = TypeAdapter(list[TraitSpec]).validate_python(data["traits"])
        tags = TypeAdapter(list[TagSpec]).validate_python(data["tags"])
        outputs = TypeAdapter(list[ModelOutputSpec]).validate_python(data.get("model_outputs", []))
    except ValidationError as error:  # a broken shipped file is a bug, said plainly
        raise HuaxiangError(f"the standard library is invalid: {error}", location=_STANDARD) from None
    return StandardLibrary(dict(data["fields"]), traits, tags, outputs)


def load_catalogue(config: Config) -> Catalogue:
    """Resolve the workspace's traits and tags (standard library included unless switched off)."""
    timezone = ZoneInfo(config.workspace.timezone)
    library = standard_library(config.tags.lifecycle)
    fields = event_fields(config)
    uses_standard = config.traits.standard or config.tags.standard
    if uses_standard:
        for name, value_type in library.fields.items():
            fields.setdefault(name, EventField(name, value_type, "absent"))
    skipped: list[Skipped] = []
    traits = _resolve_traits(config, library, fields, timezone, skipped)
    own = {t.name for t in traits}
    graph = tuple(g for g in REFERRAL_TRAITS if g.name not in own) if config.traits.standard else ()
    outputs = library.model_outputs if config.tags.standard else []
    tags = _resolve_tags(config, library, traits, outputs, timezone, skipped, graph)
    tag_levels(tags)  # a cycle between tags is an error now, not at build time
    for item in skipped:
        log.warning("standard %s %s skipped: %s", item.what, item.name, item.reason)
    return Catalogue(tuple(traits), tuple(tags), fields, tuple(skipped), tuple(outputs), graph)


def _resolve_traits(
    config: Config,
    library: StandardLibrary,
    fields: dict[str, EventField],
    timezone: ZoneInfo,
    skipped: list[Skipped],
) -> list[Trait]:
    own = {spec.name for spec in config.traits.definitions}
    traits: list[Trait] = []
    if config.traits.standard:
        for position, spec in enumerate(library.traits):
            if spec.name in own:
                continue
            try:
                traits.append(
                    resolve_trait(spec, fields, timezone=timezone, where=f"{_STANDARD} traits[{position}]")
                )
            except HuaxiangError as error:
                skipped.append(Skipped("trait", spec.name, error.message))
    for position, spec in enumerate(config.traits.definitions):
        where = f"{CONFIG_FILE} traits.definitions[{position}]"
        traits.append(resolve_trait(spec, fields, timezone=timezone, where=where))
    return traits


def _resolve_tags(
    config: Config,
    library: StandardLibrary,
    traits: list[Trait],
    outputs: list[ModelOutputSpec],
    timezone: ZoneInfo,
    skipped: list[Skipped],
    graph: tuple[GraphTrait, ...] = (),
) -> list[Tag]:
    own = {spec.name for spec in config.tags.definitions}
    trait_names = {t.name for t in traits} | {o.name for o in outputs} | {g.name for g in graph}
    for position, spec in enumerate(config.tags.definitions):
        if spec.name in trait_names:
            raise ConfigError(
                f"{spec.name!r} is already a trait; a tag needs a name of its own",
                location=f"{CONFIG_FILE} tags.definitions[{position}].name",
            )
    candidates: list[tuple[TagSpec, str, bool]] = []
    if config.tags.standard:
        candidates += [
            (spec, f"{_STANDARD} tags[{i}]", True)
            for i, spec in enumerate(library.tags)
            if spec.name not in own and spec.name not in trait_names
        ]
    candidates += [
        (spec, f"{CONFIG_FILE} tags.definitions[{i}]", False)
        for i, spec in enumerate(config.tags.definitions)
    ]
    while True:  # a skipped standard tag may be read by another: repeat until nothing more drops out
        names: dict[str, ValueType] = {t.name: t.type for t in traits}
        names |= {o.name: o.type for o in outputs} | {g.name: g.type for g in graph}
        names |= {spec.name: spec.value_type for spec, _, _ in candidates}
        tags: list[Tag] = []
        dropped = False
        for spec, where, standard in candidates:
            try:
                tags.append(resolve_tag(spec, names, timezone=timezone, where=where))
            except HuaxiangError as error:
                if not standard:
                    raise
                skipped.append(Skipped("tag", spec.name, error.message))
                candidates = [c for c in candidates if c[0].name != spec.name]
                dropped = True
                break
        if not dropped:
            return tags
