"""Data-subject requests on a resolved, built demo: finding a person's rows by column type, beside the name rule.

    uv run --frozen python -m benchmarks.erasure --customers 2000 --persons 5

The demo pipeline runs once (generate → ingest → resolve identities → build profiles without models). For a
few persons the benchmark then times, in the same run, (a) the lookup export and erasure use — every text
column of every table compared with the person's tokens, event ids and person ids, pairs and JSON included
(``privacy.holdings``) — and (b) the baseline it replaced, which compared only columns named exactly
``event_id``, ``token`` or ``person_id``; then the post-erasure verification scan and one real erasure
(with compaction). Rows found are reported too: the baseline misses the identity tables' pair columns.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from rich.table import Table

from huaxiang import api
from huaxiang.demo import demo_sources_yaml
from huaxiang.identity.resolve import resolve_identities
from huaxiang.privacy.access import local_owner
from huaxiang.privacy.holdings import person_tables, predicate, quote, used_parameters
from huaxiang.privacy.persons import Identifier, IdentityLinks, PersonRecords
from huaxiang.privacy.reader import decrypted_identifiers
from huaxiang.privacy.schema import USER_COLUMNS
from huaxiang.privacy.subjects import erase_person, verify_erasure
from huaxiang.workspace import Workspace

T = TypeVar("T")
_NAMED = {"event_id": "events", "token": "tokens", "person_id": "persons"}


def by_type(ws: Workspace, person: PersonRecords) -> int:
    return sum(
        int(
            ws.warehouse.scalar(
                f"SELECT count(*) FROM {quote(t.name)} WHERE {predicate(t)}", used_parameters(t, person)
            )
        )
        for t in person_tables(ws.warehouse)
    )


def by_name(ws: Workspace, person: PersonRecords) -> int:
    """The previous rule: only columns named exactly event_id, token or person_id."""
    values = {"events": person.event_ids, "tokens": person.tokens, "persons": person.person_ids}
    total = 0
    for table, columns in ws.warehouse.rows(
        f"SELECT table_name, list(column_name) FROM ({USER_COLUMNS}) WHERE column_name IN ('event_id', 'token', "
        "'person_id') AND table_name NOT IN ('principals', 'audit_log', 'suppressed_tokens', 'key_usage', "
        "'key_rotations', 'quarantine') GROUP BY 1"
    ):
        condition = " OR ".join(f"{quote(c)} IN (SELECT unnest(${_NAMED[c]}))" for c in columns)
        bound = {_NAMED[c]: sorted(values[_NAMED[c]]) for c in columns}
        total += int(ws.warehouse.scalar(f"SELECT count(*) FROM {quote(table)} WHERE {condition}", bound))
    return total


def timed(function: Callable[..., T], *args: Any) -> tuple[T, float]:
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--persons", type=int, default=5)
    args = parser.parse_args()
    console = Console()
    root = Path(tempfile.mkdtemp(prefix="hx-erasure-")) / "ws"
    try:
        started = time.perf_counter()
        ws = api.init_workspace(root, name="demo", sources_yaml=demo_sources_yaml())
        api.generate_demo_data(root / "data", customers=args.customers, seed=7)
        api.ingest(ws)
        resolve_identities(ws)
        api.build(ws, models=False)
        setup = time.perf_counter() - started
        events = ws.warehouse.count("events")
        chosen = [
            str(p)
            for (p,) in ws.warehouse.rows(
                "SELECT person_id FROM identity_persons WHERE kind = 'identified' ORDER BY person_id LIMIT ?",
                [args.persons],
            )
        ]
        table = Table(
            title=f"Person lookup, {events:,} events, {args.customers:,} customers (setup {setup:.0f} s)"
        )
        for column in ("person", "rows (type rule)", "s", "rows (name rule, baseline)", "s", "verify s"):
            table.add_column(column, justify="right")
        locator = IdentityLinks()
        people = []
        for person_id in chosen:
            tokens = [
                r[0]
                for r in ws.warehouse.rows(
                    "SELECT DISTINCT i.token FROM event_persons p JOIN event_identifiers i USING (event_id) "
                    "WHERE p.person_id = ?",
                    [person_id],
                )
            ]
            person = locator.locate(ws.warehouse, tokens[:1])
            people.append(person)
            found, seconds = timed(by_type, ws, person)
            baseline, baseline_seconds = timed(by_name, ws, person)
            identifiers = decrypted_identifiers(ws, person)
            _, verify_seconds = timed(verify_erasure, ws, person, identifiers)
            table.add_row(
                person_id,
                f"{found:,}",
                f"{seconds:.3f}",
                f"{baseline:,}",
                f"{baseline_seconds:.3f}",
                f"{verify_seconds:.3f}",
            )
        console.print(table)
        first = people[0]
        [(id_type, value)] = decrypted_identifiers(ws, first)[:1]
        report, seconds = timed(erase_person, ws, local_owner(ws.key_file), Identifier(id_type, value))
        console.print(
            f"erase_person (delete, suppress, audit, compact, verify): {seconds:.2f} s, "
            f"{sum(report.deleted.values()):,} rows, verified={report.verified}"
        )
        ws.close()
    finally:
        shutil.rmtree(root.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
