"""Reports over built profiles: a tag's distribution today, and who entered or left each value since a build."""

from __future__ import annotations

from dataclasses import dataclass

from huaxiang.errors import NotFoundError
from huaxiang.tags import history
from huaxiang.tags.definitions import Tag
from huaxiang.tags.library import Catalogue, load_catalogue
from huaxiang.workspace import Workspace


@dataclass(frozen=True, slots=True)
class Distribution:
    """How the current profiles spread over one tag: counts per value, or a numeric summary."""

    tag: Tag
    persons: int
    missing: int
    values: tuple[tuple[str, int], ...] = ()
    summary: dict[str, float] | None = None


@dataclass(frozen=True, slots=True)
class ChangeReport:
    since: history.Build
    until: history.Build
    changes: tuple[history.TagChange, ...]


def categorical(tag: Tag) -> bool:
    """Tags whose values people enter and leave: labels, flags and bins (not free numbers or lists)."""
    return tag.value_type in ("string", "boolean") or tag.quantile is not None


def tag_distribution(
    workspace: Workspace, name: str, *, catalogue: Catalogue | None = None, top: int = 20
) -> Distribution:
    catalogue = catalogue or load_catalogue(workspace.config)
    tag = catalogue.tag(name)
    warehouse = workspace.warehouse
    if history.CURRENT not in {t for (t,) in warehouse.rows("SELECT view_name FROM duckdb_views()")}:
        raise NotFoundError("no profile build yet", hint="run `huaxiang build` first")
    if tag.name not in history.value_columns(warehouse):
        raise NotFoundError(f"{tag.name} is not in the latest build", hint="run `huaxiang build` again")
    column = history.quote(tag.name)
    persons, missing = warehouse.rows(
        f"SELECT count(*), count(*) FILTER (WHERE {column} IS NULL) FROM {history.CURRENT}"
    )[0]
    if categorical(tag) or tag.value_type == "list":
        rows = warehouse.rows(
            f"SELECT {column}::VARCHAR AS v, count(*) AS n FROM {history.CURRENT} WHERE {column} IS NOT NULL "
            f"GROUP BY 1 ORDER BY n DESC, v LIMIT {int(top)}"
        )
        return Distribution(tag, int(persons), int(missing), tuple((str(v), int(n)) for v, n in rows))
    if tag.value_type == "number":
        low, q1, median, q3, high, mean = warehouse.rows(
            f"SELECT min({column}), quantile_cont({column}, 0.25), median({column}), quantile_cont({column}, 0.75), "
            f"max({column}), avg({column}) FROM {history.CURRENT}"
        )[0]
        summary = {"min": low, "p25": q1, "median": median, "p75": q3, "max": high, "mean": mean}
        return Distribution(
            tag, int(persons), int(missing), summary={k: v for k, v in summary.items() if v is not None}
        )
    return Distribution(tag, int(persons), int(missing))


def changes_since(
    workspace: Workspace,
    since: str = "previous",
    until: str = "latest",
    *,
    catalogue: Catalogue | None = None,
) -> ChangeReport:
    """Per categorical tag and value: persons who entered and left it between two builds."""
    catalogue = catalogue or load_catalogue(workspace.config)
    first = history.find_build(workspace.warehouse, since)
    last = history.find_build(workspace.warehouse, until)
    names = [t.name for t in catalogue.tags if categorical(t)]
    changes = history.tag_changes(workspace.warehouse, names, first.as_of, last.as_of)
    return ChangeReport(first, last, tuple(changes))
