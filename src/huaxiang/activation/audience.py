"""Audience exports: the persons of a profile filter who may be contacted for a purpose, written to a file.

The filter is the expression language (checked against the catalogue's traits, tags and model outputs,
compiled to Ibis over the current profiles, never pasted into SQL). Which of the selected persons reach
the file, and how their contact looks, is decided by the privacy layer alone
(:func:`~huaxiang.privacy.audience.audience_contacts`): consent for the purpose, minors, the principal's
role, and the audit entry. The file is created owner-only and never overwrites another: an audience
file is personal data.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq

from huaxiang.errors import HuaxiangError, NotFoundError
from huaxiang.expressions import EvaluationContext, parse_expression
from huaxiang.expressions.ibis_compiler import to_ibis
from huaxiang.privacy.audience import Audience, audience_contacts
from huaxiang.privacy.roles import Principal
from huaxiang.tags import history
from huaxiang.tags.build import ibis_backend
from huaxiang.tags.library import load_catalogue
from huaxiang.workspace import Workspace

FORMATS = (".csv", ".parquet")


@dataclass(frozen=True, slots=True)
class AudienceExport:
    """The written file, how many persons the filter selected, and the privacy layer's decision."""

    out: Path
    selected: int
    audience: Audience


def _profiles_built(workspace: Workspace) -> bool:
    return bool(
        workspace.warehouse.scalar(
            "SELECT count(*) FROM duckdb_views() WHERE NOT internal AND view_name = ?", [history.CURRENT]
        )
    )


def select_persons(
    workspace: Workspace, where: str | None = None, *, as_of: datetime | None = None
) -> list[str]:
    """Person ids of the current profiles matching ``where`` (all of them without one)."""
    if not _profiles_built(workspace):
        raise NotFoundError(
            "no profiles yet / 尚未生成画像",
            hint="run `huaxiang identity resolve` and `huaxiang build` first",
        )
    warehouse = workspace.warehouse
    if not where:
        return [str(p) for (p,) in warehouse.rows(f"SELECT person_id FROM {history.CURRENT} ORDER BY 1")]
    present = set(history.value_columns(warehouse))
    names = {n: t for n, t in load_catalogue(workspace.config).names.items() if n in present}
    timezone = ZoneInfo(workspace.config.workspace.timezone)
    expression = parse_expression(where, names, expect="boolean", timezone=timezone, where="--where")
    context = EvaluationContext(as_of=as_of or datetime.now(UTC).replace(tzinfo=None), timezone=timezone)
    with ibis_backend(warehouse) as backend:
        profiles = backend.table(history.CURRENT)
        condition = to_ibis(expression, lambda name: profiles[name], context)
        selected = profiles.filter(condition.fill_null(False)).select("person_id").order_by("person_id")
        return [str(p) for p in selected.to_pyarrow().column("person_id").to_pylist()]


def _check_out(out: Path) -> None:
    if out.suffix.lower() not in FORMATS:
        raise HuaxiangError(
            f"cannot write an audience to {out.name!r} / 不支持的文件类型",
            location=str(out),
            hint="name the file .csv or .parquet",
        )
    if out.exists():
        raise HuaxiangError(
            f"{out} already exists / 文件已存在",
            location=str(out),
            hint="an audience file holds personal data and is never overwritten: choose a new name",
        )
    if not out.parent.is_dir():
        raise HuaxiangError(
            f"folder {out.parent} does not exist / 目录不存在",
            location=str(out),
            hint="create the folder first",
        )


def _write(out: Path, audience: Audience) -> None:
    """Owner-only file, created exclusively (a concurrent writer or a planted link makes it fail)."""
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    column = audience.contact_type
    if out.suffix.lower() == ".parquet":
        table = pa.table(
            {
                "person_id": [m.person_id for m in audience.members],
                column: [m.contact for m in audience.members],
            }
        )
        with os.fdopen(descriptor, "wb") as handle:
            pq.write_table(table, handle)
        return
    with os.fdopen(
        descriptor, "w", encoding="utf-8-sig", newline=""
    ) as handle:  # BOM: spreadsheets read UTF-8
        writer = csv.writer(handle)
        writer.writerow(["person_id", column])
        writer.writerows([m.person_id, m.contact] for m in audience.members)


def export_audience(
    workspace: Workspace,
    principal: Principal,
    purpose: str,
    out: Path,
    *,
    where: str | None = None,
    contact: str | None = None,
    as_of: date | None = None,
) -> AudienceExport:
    """Write the persons matching ``where`` who may be contacted for ``purpose`` (person id + contact)."""
    _check_out(out)
    selected = select_persons(workspace, where)
    audience = audience_contacts(
        workspace,
        principal,
        purpose,
        selected,
        contact_type=contact,
        as_of=as_of,
        detail={"out": out.name, "where": where or "", "selected": len(selected)},
    )
    _write(out, audience)
    return AudienceExport(out, len(selected), audience)
