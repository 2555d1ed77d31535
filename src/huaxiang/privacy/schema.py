"""The privacy layer's own warehouse tables: principals, the audit chain, suppressed tokens, key usage.

Created on first use with ``CREATE TABLE IF NOT EXISTS`` so a warehouse made before these features gains
them without a migration step; the statements are idempotent and cheap, so every writer calls
:func:`ensure_privacy_schema` rather than tracking whether it already ran.
"""

from __future__ import annotations

from huaxiang.backends.duckdb import PRIVACY_SCHEMA, Warehouse

#: Columns of the warehouse's own tables (no views, system or temporary tables): table_name, column_name,
#: data_type, column_index, is_nullable. Select from it like a table: ``SELECT ... FROM ({USER_COLUMNS}) WHERE ...``.
USER_COLUMNS = (
    "SELECT c.table_name, c.column_name, c.data_type, c.column_index, c.is_nullable FROM duckdb_columns() c "
    "JOIN duckdb_tables() t ON t.table_oid = c.table_oid WHERE NOT t.temporary AND NOT t.internal"
)

#: Tables of the privacy layer itself: bookkeeping that data-subject requests treat on their own terms.
PRIVACY_TABLES = frozenset({"principals", "audit_log", "suppressed_tokens", "key_usage", "key_rotations"})


def ensure_privacy_schema(warehouse: Warehouse) -> None:
    """Create the privacy tables if they are missing (idempotent)."""
    warehouse.con.execute(PRIVACY_SCHEMA)


def table_exists(warehouse: Warehouse, name: str) -> bool:
    return bool(
        warehouse.scalar(
            "SELECT count(*) FROM duckdb_tables() WHERE NOT temporary AND table_name = ?", [name]
        )
    )
