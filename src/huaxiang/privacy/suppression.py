"""The suppression list: erased persons' identifiers, held as references so re-ingesting cannot revive them.

A row holds ``sha256(token)`` of each identifier token the person had (:func:`huaxiang.privacy.audit.subject_ref`),
never the identifier and not the token itself, so no table keeps a value an erased person's events used.
Ingest checks a batch's tokens with :func:`is_suppressed_sql` (or anti-joins :func:`suppressed_tokens_sql`
on ``sha256(token)``) and keeps matching records out of the event log.
"""

from __future__ import annotations

from collections.abc import Collection

from huaxiang.backends.duckdb import Warehouse
from huaxiang.errors import NotFoundError
from huaxiang.privacy.audit import subject_ref
from huaxiang.privacy.schema import ensure_privacy_schema, table_exists


def ensure_suppression_table(warehouse: Warehouse) -> None:
    """Create ``suppressed_tokens`` (and the other privacy tables) if missing; call before the SQL below."""
    ensure_privacy_schema(warehouse)


def suppressed_tokens_sql() -> str:
    """A subquery of suppression references; join its ``token`` on ``sha256(<identifier token>)``."""
    return "(SELECT DISTINCT token FROM suppressed_tokens)"


def suppression_key_sql(token_sql: str) -> str:
    """The DuckDB expression that turns an identifier token column into its suppression reference."""
    return f"sha256({token_sql})"


def is_suppressed_sql(token_sql: str) -> str:
    """A boolean SQL predicate: the identifier token in column/expression ``token_sql`` belongs to an erased person."""
    return (
        f"EXISTS (SELECT 1 FROM suppressed_tokens suppressed_ref "
        f"WHERE suppressed_ref.token = {suppression_key_sql(token_sql)})"
    )


def suppressed(warehouse: Warehouse, tokens: Collection[str]) -> frozenset[str]:
    """Which of these identifier tokens belong to erased persons."""
    if not tokens or not table_exists(warehouse, "suppressed_tokens"):
        return frozenset()
    by_ref = {subject_ref(t): t for t in tokens}
    rows = warehouse.rows(
        "SELECT DISTINCT token FROM suppressed_tokens WHERE token IN (SELECT unnest($refs))",
        {"refs": sorted(by_ref)},
    )
    return frozenset(by_ref[r[0]] for r in rows)


def not_found(warehouse: Warehouse, looked_up: str, id_type: str) -> NotFoundError:
    """The error for a lookup that found nobody; it says so when the person was erased (and when)."""
    erased = None
    if table_exists(warehouse, "suppressed_tokens"):
        erased = warehouse.scalar(
            "SELECT min(suppressed_at) FROM suppressed_tokens WHERE token = ?", [subject_ref(looked_up)]
        )
    return NotFoundError(
        f"no person with this {id_type} / 未找到此人",
        hint=f"this identifier was erased on {erased:%Y-%m-%d} / 已于该日删除"
        if erased
        else "check the value and its type",
    )
