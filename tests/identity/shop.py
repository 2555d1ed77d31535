"""A tiny shop for identity tests: CRM rows, orders and web events as small CSVs in a real workspace."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from stdnum.cn import ric

from huaxiang.identity.resolve import ResolveReport, resolve_identities
from huaxiang.ingest import ingest_source
from huaxiang.workspace import Workspace
from tests.conftest import MakeWorkspace

SOURCES = """\
sources:
  - name: crm
    format: csv
    path: data/crm*.csv
    key: [crm_id, updated]
    event_type: identify
    timestamp: updated
    fields:
      - {column: crm_id, role: identifier, name: crm_id}
      - {column: phone, role: identifier, name: phone}
      - {column: email, role: identifier, name: email}
      - {column: id_card, role: identifier, name: id_card}
      - {column: name, role: attribute, name: full_name, kind: name}
  - name: orders
    format: csv
    path: data/orders*.csv
    key: [order_id]
    event_type: purchase
    timestamp: paid_at
    fields:
      - {column: order_id, role: property}
      - {column: user_id, role: identifier, name: user_id}
      - {column: phone, role: identifier, name: phone}
      - {column: email, role: identifier, name: email}
  - name: web
    format: csv
    path: data/web*.csv
    key: [event_id]
    event_type_column: event
    timestamp: ts
    fields:
      - {column: event_id, role: property}
      - {column: device_id, role: identifier, name: device_id}
      - {column: user_id, role: identifier, name: user_id}
"""

NO_MATCHING = """\
identity:
  match: {enabled: false}
"""

CRM = ("crm_id", "phone", "email", "id_card", "name", "updated")
ORDERS = ("order_id", "user_id", "phone", "email", "paid_at")
WEB = ("event_id", "device_id", "user_id", "event", "ts")
HEADERS = {"crm": CRM, "orders": ORDERS, "web": WEB}


def id_card(region: str, birth: str, sequence: int) -> str:
    """A valid 居民身份证 number (region code, YYYYMMDD, three-digit sequence, check digit)."""
    body = f"{region}{birth}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def csv_text(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


@dataclass
class Shop:
    """A workspace over the shop's files; ``add`` writes another file and ingests it."""

    workspace: Workspace

    @property
    def root(self) -> Path:
        return self.workspace.root

    def add(self, source: str, rows: Iterable[Sequence[str]], *, part: int = 1) -> None:
        """Write ``data/<source><part>.csv`` and ingest it."""
        folder = self.root / "data"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{source}{part}.csv").write_text(csv_text(HEADERS[source], rows), encoding="utf-8")
        ingest_source(self.workspace, source)

    def resolve(self, *, full: bool = False) -> ResolveReport:
        return resolve_identities(self.workspace, full=full)

    def person(self, source: str, record_key: str) -> str:
        found = self.workspace.warehouse.rows(
            "SELECT p.person_id FROM events e JOIN event_persons p USING (event_id) "
            "WHERE e.source = ? AND e.record_key = ?",
            [source, record_key],
        )
        assert len(found) == 1, f"{source} {record_key}: {found}"
        return str(found[0][0])

    def persons(self) -> dict[tuple[str, str], str]:
        rows = self.workspace.warehouse.rows(
            "SELECT e.source, e.record_key, p.person_id FROM events e JOIN event_persons p USING (event_id)"
        )
        return {(source, key): person for source, key, person in rows}

    def log(self, action: str) -> list[tuple[str | None, str | None, str]]:
        return [
            (person, other, evidence)
            for person, other, evidence in self.workspace.warehouse.rows(
                "SELECT person_id, other_id, evidence FROM identity_log WHERE action = ? ORDER BY logged_at",
                [action],
            )
        ]


def open_shop(make_workspace: MakeWorkspace, identity_yaml: str = NO_MATCHING, name: str = "shop") -> Shop:
    return Shop(make_workspace(SOURCES + identity_yaml, name=name))
