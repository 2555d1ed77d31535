"""Erasure and export reach every table the whole pipeline writes: identity, merge log, profiles, scores.

The demo retailer runs end to end (generate → ingest → resolve identities → a steward's must-link and a
second resolve, so the merge log and aliases hold the person → build profiles); then one merged person is
exported and erased. Which tables hold them is decided by brute force here (any text of any column of any
table containing one of their tokens, event ids or person ids), independently of the erasure code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from huaxiang import api
from huaxiang.demo import demo_sources_yaml
from huaxiang.identity.overrides import record_override
from huaxiang.identity.resolve import resolve_identities
from huaxiang.privacy.access import local_owner
from huaxiang.privacy.persons import Identifier, IdentityLinks, PersonRecords
from huaxiang.privacy.schema import PRIVACY_TABLES
from huaxiang.privacy.subjects import erase_person, export_person
from huaxiang.workspace import Workspace

#: What a small demo cannot produce for real, stood in for: a probabilistic match needs enough identify
#: records to train on, and trained models score persons in tables of their own.
STAND_INS = (
    "INSERT INTO identity_matches SELECT a.event_id, b.event_id, 0.97, 8.5, 'stand-in' FROM "
    "(SELECT event_id FROM event_persons WHERE person_id = $p LIMIT 1) a, "
    "(SELECT event_id FROM event_persons WHERE person_id <> $p LIMIT 1) b",
    "CREATE TABLE churn_scores AS SELECT person_id, 0.42 AS churn_probability FROM profiles WHERE $p IS NOT NULL",
    # another person's row that names the erased one (a referrer): it must stay, with the reference nulled
    "CREATE TABLE referral_scores AS SELECT person_id, $p AS referrer_id, 1.0 AS score FROM profiles "
    "WHERE person_id <> $p ORDER BY person_id LIMIT 1",
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, str]]:
    """The demo pipeline on 40 customers, with two persons merged by a steward; yields the survivor's id."""
    root = tmp_path_factory.mktemp("demo") / "ws"
    workspace = api.init_workspace(root, name="demo", sources_yaml=demo_sources_yaml())
    api.generate_demo_data(root / "data", customers=40, seed=11)
    api.ingest(workspace)
    resolve_identities(workspace)
    limited = "('crm_id', 'id_card')"  # at most one value per person: a merge must not join two of these
    persons = workspace.warehouse.rows(
        "SELECT a.person_id, bool_or(a.id_type IN " + limited + ") FROM identity_assignments a "
        "JOIN identity_persons p USING (person_id) WHERE p.kind = 'identified' GROUP BY 1 "
        "HAVING bool_or(a.id_type = 'phone') ORDER BY 1"
    )
    first = next(p for p, has_limited in persons if has_limited)
    second = next(p for p, has_limited in persons if not has_limited)
    record_override(workspace, "must_link", first, second, note="same customer", author="steward")
    resolve_identities(workspace)
    api.build(workspace, models=False)
    [(survivor,)] = workspace.warehouse.rows(
        "SELECT DISTINCT person_id FROM person_aliases WHERE alias_id IN ($a, $b)", {"a": first, "b": second}
    )
    yield workspace, str(survivor)
    workspace.close()


def holding(ws: Workspace, person: PersonRecords) -> dict[str, int]:
    """Rows per table (privacy tables included) with any column whose text contains one of the needles."""
    needles = sorted(person.tokens | person.event_ids | person.person_ids)
    pattern = "|".join(re.escape(n) for n in needles)
    found: dict[str, int] = {}
    for table, columns in ws.warehouse.rows(
        "SELECT c.table_name, list(c.column_name) FROM duckdb_columns() c JOIN duckdb_tables() t USING (table_oid) "
        "WHERE NOT t.temporary AND NOT t.internal GROUP BY 1"
    ):
        condition = " OR ".join(f'regexp_matches("{c}"::VARCHAR, $p)' for c in columns)
        rows = int(ws.warehouse.scalar(f'SELECT count(*) FROM "{table}" WHERE {condition}', {"p": pattern}))
        if rows:
            found[table] = rows
    return found


def test_export_lists_and_erasure_clears_every_table_the_pipeline_wrote(
    demo: tuple[Workspace, str], tmp_path: Path
) -> None:
    ws, survivor = demo
    warehouse = ws.warehouse
    [(phone_sealed,)] = warehouse.rows(
        "SELECT any_value(v.value_enc) FROM event_identifiers i JOIN event_persons p USING (event_id) "
        "JOIN identifier_values v ON v.token = i.token "
        "WHERE p.person_id = ? AND i.id_type = 'phone'",
        [survivor],
    )
    identifier = Identifier("phone", ws.cipher.decrypt(phone_sealed, context="phone"))
    person = IdentityLinks().locate(warehouse, [identifier.token(ws.keyring)])
    assert len(person.person_ids) == 2  # the survivor and the id the merge absorbed (kept in person_aliases)
    for statement in STAND_INS:
        warehouse.con.execute(statement, {"p": survivor})

    before = holding(ws, person)
    derived = {
        "event_persons",
        "identity_assignments",
        "identity_persons",
        "person_aliases",
        "identity_log",
        "identity_overrides",
        "identity_matches",
        "profile_versions",
        "churn_scores",
        "referral_scores",
    }
    assert derived | {"events", "event_identifiers"} <= set(before)

    owner = local_owner(ws.key_file)
    preview = erase_person(ws, owner, identifier, dry_run=True)
    assert preview.redacted["referral_scores"] == 1  # another person's row: redacted, not exported or deleted
    copy = export_person(ws, owner, identifier, tmp_path / "export")
    assert set(before) - PRIVACY_TABLES - set(preview.redacted) <= set(copy.tables)
    for table, rows in before.items():
        if table not in PRIVACY_TABLES:
            assert copy.tables.get(table, 0) + preview.redacted.get(table, 0) == rows, table

    report = erase_person(ws, owner, identifier)
    assert report.verified, report.remaining
    assert set(before) - PRIVACY_TABLES - set(preview.redacted) <= set(report.deleted)
    assert holding(ws, person) == {}  # no table, the privacy layer's own included, names them any more
    assert ws.warehouse.rows("SELECT referrer_id, score FROM referral_scores") == [(None, 1.0)]
    assert (
        ws.warehouse.count("profiles", "person_id IN (SELECT unnest($p))", {"p": sorted(person.person_ids)})
        == 0
    )
