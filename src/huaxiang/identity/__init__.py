"""Identity resolution: the identifier graph, probabilistic record matching, stable person ids, evaluation."""

from huaxiang.identity.evaluation import LinkageMetrics, evaluate_clusters
from huaxiang.identity.explain import Explanation, explain
from huaxiang.identity.export import Evaluation, ExportResult, evaluate_resolution, export_persons
from huaxiang.identity.lookup import Found, find_persons
from huaxiang.identity.overrides import Override, list_overrides, record_override
from huaxiang.identity.probabilistic import (
    MatchingError,
    MatchPlan,
    MatchResult,
    match_records,
    plan_matching,
)
from huaxiang.identity.resolve import ResolveReport, resolve_identities
from huaxiang.identity.scoring import score_records
from huaxiang.identity.semantic_types import MatchField, MatchSettings, SemanticType

__all__ = [
    "Evaluation",
    "Explanation",
    "ExportResult",
    "Found",
    "LinkageMetrics",
    "MatchField",
    "MatchPlan",
    "MatchResult",
    "MatchSettings",
    "MatchingError",
    "Override",
    "ResolveReport",
    "SemanticType",
    "evaluate_clusters",
    "evaluate_resolution",
    "explain",
    "export_persons",
    "find_persons",
    "list_overrides",
    "match_records",
    "plan_matching",
    "record_override",
    "resolve_identities",
    "score_records",
]
