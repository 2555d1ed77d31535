"""Model outputs in the profile: scores a trained model gives each person, read by tags like traits.

The catalogue declares each output (``model_outputs`` in ``standard.yaml``: name, model kind, type, labels)
so tag rules can be checked against it before any model exists. A build is handed the scores of the
models that have a trained version (:class:`ModelScores`, made by :mod:`huaxiang.models`, a later stage
that this one never imports); each output joins the trait table by person, and an output no model supplied
is NULL, so the same catalogue builds before and after training. Which model version produced a build's
values is kept in ``build_models``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

import pyarrow as pa
from pydantic import Field

from huaxiang.backends.duckdb import Warehouse
from huaxiang.config import _NAME, _Strict
from huaxiang.errors import HuaxiangError
from huaxiang.i18n import Label

OutputType = Literal["number", "string", "boolean", "list"]
_SQL_TYPES: dict[str, str] = {
    "number": "DOUBLE",
    "string": "VARCHAR",
    "boolean": "BOOLEAN",
    "list": "VARCHAR[]",
}
BUILD_MODELS = "build_models"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {BUILD_MODELS} (
    build_id  VARCHAR NOT NULL,
    kind      VARCHAR NOT NULL,
    version   VARCHAR NOT NULL,   -- model_versions.version
    persons   BIGINT NOT NULL     -- persons it scored
);
"""


class ModelOutputSpec(_Strict):
    """One value a model gives each person (e.g. ``churn_probability`` from the ``churn`` model)."""

    name: Annotated[str, Field(pattern=_NAME)]
    model: Annotated[str, Field(pattern=_NAME)]
    type: OutputType = "number"
    label: Label
    description: Label | None = None

    @property
    def sql_type(self) -> str:
        return _SQL_TYPES[self.type]


@dataclass(frozen=True, slots=True)
class ModelScores:
    """What one trained model version says about each person: ``person_id`` and output columns."""

    kind: str
    version: str
    table: pa.Table


def attach_model_outputs(
    warehouse: Warehouse,
    traits_table: str,
    outputs: Sequence[ModelOutputSpec],
    scores: Sequence[ModelScores],
    *,
    base: str | None = None,
) -> None:
    """Replace ``traits_table`` with ``base`` (default: itself) plus a column per declared output (NULL where
    no model scored).

    A build passes the view of its aggregation as ``base``, so the trait table is written once, outputs
    included, instead of written and then copied whole to add them.
    """
    if not outputs:
        if base is not None:
            warehouse.con.execute(f"CREATE OR REPLACE TEMP TABLE {traits_table} AS SELECT * FROM {base}")
        return
    declared = {o.name: o for o in outputs}
    selects = []
    joins = []
    supplied: dict[str, str] = {}
    for position, score in enumerate(scores):
        columns = [c for c in score.table.column_names if c != "person_id"]
        if "person_id" not in score.table.column_names:
            raise HuaxiangError(f"scores of model {score.version} have no person_id column")
        name = f"model_scores_{position}"
        warehouse.con.register(name, score.table)
        joins.append(f"LEFT JOIN {name} ON {name}.person_id = t.person_id")
        for column in columns:
            if column in declared and column not in supplied:
                supplied[column] = name
    for output in outputs:
        source = supplied.get(output.name)
        value = f'{source}."{output.name}"' if source else "NULL"
        selects.append(f'CAST({value} AS {output.sql_type}) AS "{output.name}"')
    try:
        warehouse.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {traits_table} AS "
            f"SELECT t.*, {', '.join(selects)} FROM {base or traits_table} t {' '.join(joins)}"
        )
    finally:
        for position in range(len(scores)):
            warehouse.con.unregister(f"model_scores_{position}")


def record_model_versions(warehouse: Warehouse, build_id: str, scores: Sequence[ModelScores]) -> None:
    warehouse.con.execute(SCHEMA)
    for score in scores:
        warehouse.con.execute(
            f"INSERT INTO {BUILD_MODELS} VALUES (?, ?, ?, ?)",
            [build_id, score.kind, score.version, score.table.num_rows],
        )


def model_versions_of(warehouse: Warehouse, build_id: str) -> dict[str, str]:
    """Model kind → version that produced a build's model outputs."""
    warehouse.con.execute(SCHEMA)
    return dict(warehouse.rows(f"SELECT kind, version FROM {BUILD_MODELS} WHERE build_id = ?", [build_id]))
