"""Data-subject requests: the export holds every table that holds the person; erasure leaves none."""

from __future__ import annotations

import csv
import json
import stat
from pathlib import Path

import pytest

from huaxiang.errors import NotFoundError
from huaxiang.ingest import ingest_source
from huaxiang.privacy import audit
from huaxiang.privacy.compaction import compact_warehouse
from huaxiang.privacy.context import audit_anchor_path
from huaxiang.privacy.persons import Identifier, PersonRecords, TokenClosure
from huaxiang.privacy.reader import read_person
from huaxiang.privacy.roles import AccessDeniedError
from huaxiang.privacy.subjects import erase_person, export_person
from huaxiang.privacy.suppression import is_suppressed_sql, suppressed, suppressed_tokens_sql
from huaxiang.workspace import Workspace
from tests.privacy.conftest import SECRETS, ZHANG_ID, Shop, as_role, warehouse_bytes

PHONE = Identifier("phone", "+8613812345678")
LI = Identifier("phone", "+8613900001111")


def locate(ws: Workspace, identifier: Identifier) -> PersonRecords:
    return TokenClosure().locate(ws.warehouse, [identifier.token(ws.keyring)])


def add_derived_table(ws: Workspace, person: PersonRecords) -> None:
    """A stand-in for a later stage's per-person output, keyed by token (found by its column name alone)."""
    ws.warehouse.con.execute("CREATE TABLE token_scores (token VARCHAR, score DOUBLE)")
    ws.warehouse.con.execute(
        "INSERT INTO token_scores SELECT DISTINCT token, 0.5 FROM event_identifiers WHERE event_id IN (SELECT unnest(?))",
        [sorted(person.event_ids)],
    )


def tables_holding(ws: Workspace, person: PersonRecords) -> set[str]:
    """Brute force: every table with a text column equal to one of the person's tokens or event ids."""
    needles = sorted(person.tokens | person.event_ids)
    holding = set()
    for table, column in ws.warehouse.rows(
        "SELECT c.table_name, c.column_name FROM duckdb_columns() c JOIN duckdb_tables() t USING (table_oid) "
        "WHERE NOT t.temporary AND c.data_type = 'VARCHAR'"
    ):
        if ws.warehouse.scalar(
            f'SELECT count(*) FROM "{table}" WHERE "{column}" IN (SELECT unnest(?))', [needles]
        ):
            holding.add(table)
    return holding


def test_export_holds_every_table_that_holds_the_person(shop: Shop, tmp_path: Path) -> None:
    ws = shop.workspace
    person = locate(ws, PHONE)
    add_derived_table(ws, person)
    read_person(ws, as_role("analyst"), PHONE, "analytics")
    result = export_person(ws, shop.owner, PHONE, tmp_path / "export")
    expected = tables_holding(ws, person) - {"audit_log"}
    assert expected <= set(result.tables)
    assert {"events", "event_identifiers", "token_scores", "quarantine"} <= set(result.tables)
    document = json.loads((tmp_path / "export" / "person.json").read_text(encoding="utf-8"))
    assert document["tables"]["events"].__len__() == len(person.event_ids)
    assert {("phone", "+8613812345678"), ("id_card", ZHANG_ID), ("device_id", "dev-zhang-tablet")} <= {
        (i["type"], i["value"]) for i in document["identifiers"]
    }
    crm = next(e for e in document["tables"]["events"] if e["source"] == "crm")
    assert crm["attributes"]["bank_card"] == "6222020200112233445"  # decrypted: the copy is for the person
    assert document["tables"]["quarantine"][0]["raw"]["身份证号"] == "110105194912310021"
    assert [r["evidence"] for r in document["consent"]["history"]] == [
        "signup-form-1",
        "app-settings-2",
        "signup-form-1",
    ]
    assert document["consent"]["current"]["marketing_sms"]["status"] == "denied"
    actions = [(e["action"], e["role"]) for e in document["access_log"]]
    assert ("read_person", "analyst") in actions and ("export_person", "admin") in actions
    with (tmp_path / "export" / "table_events.csv").open(encoding="utf-8-sig") as handle:
        assert len(list(csv.DictReader(handle))) == len(person.event_ids)
    for file in result.files:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600


def test_export_refuses_a_used_folder_and_unprivileged_roles(shop: Shop, tmp_path: Path) -> None:
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x").write_text("x")
    with pytest.raises(Exception, match="not an empty folder"):
        export_person(shop.workspace, shop.owner, PHONE, tmp_path / "used")
    with pytest.raises(AccessDeniedError):
        export_person(shop.workspace, as_role("analyst"), PHONE, tmp_path / "new")


def test_erasure_leaves_no_trace_but_the_suppression_list_and_the_log(shop: Shop) -> None:
    ws = shop.workspace
    person = locate(ws, PHONE)
    add_derived_table(ws, person)
    others = ws.warehouse.count("events") - len(person.event_ids)
    li_before = locate(ws, LI)
    preview = erase_person(ws, shop.owner, PHONE, dry_run=True)
    assert (
        preview.dry_run
        and preview.deleted["events"] == len(person.event_ids)
        and ws.warehouse.count("events") > others
    )

    report = erase_person(ws, shop.owner, PHONE, request_id="DSR-2024-001")
    assert report.verified
    assert report.deleted["token_scores"] == len(person.tokens) and report.deleted["quarantine"] == 1
    assert set(report.remaining.values()) == {0}
    assert tables_holding(ws, person) == set()
    assert ws.warehouse.count("events") == others
    assert ws.warehouse.count("quarantine") == 0
    assert suppressed(ws.warehouse, person.tokens) == person.tokens
    assert suppressed(ws.warehouse, locate(ws, LI).tokens) == frozenset()
    entry = audit.list_audit(ws.warehouse, limit=1)[0]
    assert entry.action == "erase_person" and entry.detail["request_id"] == "DSR-2024-001"
    assert audit.verify_audit(ws.warehouse, ws.keyring, audit_anchor_path(ws)).ok
    with pytest.raises(NotFoundError, match="erased on"):
        read_person(ws, as_role("dpo"), PHONE, "data_subject_request")
    assert locate(ws, LI) == li_before  # others untouched


def test_the_warehouse_file_holds_no_plaintext_after_erasure(shop: Shop) -> None:
    erase_person(shop.workspace, shop.owner, PHONE)
    raw = warehouse_bytes(shop.workspace)
    for secret in SECRETS:
        assert secret.encode() not in raw, secret


def test_erasure_leaves_no_bytes_of_the_person_in_the_file(shop: Shop) -> None:
    """Personal attributes are stored in clear; erasure must not leave them in freed blocks of the file."""
    theirs = (
        "北京市朝阳区建国路88号",
        "app-settings-2",
        "C001",
        "C006",
    )  # address, consent evidence, record keys
    raw = warehouse_bytes(shop.workspace)
    assert [v for v in ("张伟", *theirs) if v.encode() not in raw] == []
    report = erase_person(shop.workspace, shop.owner, PHONE)
    assert report.compacted
    raw = warehouse_bytes(shop.workspace)
    assert [value for value in ("张伟", *theirs) if value.encode() in raw] == []
    assert "李娜".encode() in raw and "上海市浦东新区张江路1号".encode() in raw


def test_suppression_sql_matches_identifier_tokens(shop: Shop) -> None:
    ws = shop.workspace
    person = locate(ws, PHONE)
    erase_person(ws, shop.owner, PHONE)
    batch = [PHONE.token(ws.keyring), LI.token(ws.keyring)]
    hits = ws.warehouse.rows(f"SELECT t FROM (SELECT unnest(?) AS t) WHERE {is_suppressed_sql('t')}", [batch])
    assert [h[0] for h in hits] == [PHONE.token(ws.keyring)]
    kept = ws.warehouse.rows(
        f"SELECT t FROM (SELECT unnest(?) AS t) b WHERE sha256(t) NOT IN {suppressed_tokens_sql()}", [batch]
    )
    assert [k[0] for k in kept] == [LI.token(ws.keyring)]
    assert ws.warehouse.count("suppressed_tokens") == len(person.tokens)
    # The list holds references, not the tokens themselves.
    assert not ws.warehouse.scalar(
        "SELECT count(*) FROM suppressed_tokens WHERE token IN (SELECT unnest(?))", [batch]
    )


def test_reingesting_an_erased_persons_records_is_suppressed(shop: Shop) -> None:
    ws = shop.workspace
    li_before = locate(ws, LI)
    erase_person(ws, shop.owner, PHONE)
    results = [ingest_source(ws, source, force=True) for source in ("crm", "orders", "web", "consent")]
    assert sum(r.suppressed for r in results) > 0
    for r in results:
        assert r.records_read == r.accepted + r.quarantined
        assert r.accepted == r.inserted + r.duplicates + r.suppressed
    assert not locate(ws, PHONE).found
    assert locate(ws, LI) == li_before


def test_erasure_still_stands_when_the_file_cannot_be_compacted(shop: Shop) -> None:
    ws = shop.workspace
    other = Workspace.open(ws.root)
    other.warehouse.count("events")  # a second connection to the same file in this process
    report = erase_person(ws, shop.owner, PHONE)
    assert report.verified and not report.compacted
    other.close()
    assert compact_warehouse(ws) is not None
    assert "张伟".encode() not in warehouse_bytes(ws)


def test_another_persons_reference_to_the_erased_person_is_nulled_and_their_record_kept(
    shop: Shop,
) -> None:
    """A referral names its referee as ``"tok:" + token``: the referrer's event stays, the reference goes."""
    ws = shop.workspace
    zhang, li = locate(ws, PHONE), locate(ws, LI)
    referral = min(li.event_ids)
    reference = "tok:" + PHONE.token(ws.keyring)
    ws.warehouse.con.execute(
        "UPDATE events SET properties = json_merge_patch(coalesce(properties, '{}'), json_object('referee_phone', ?)) "
        "WHERE event_id = ?",
        [reference, referral],
    )
    assert erase_person(ws, shop.owner, PHONE, dry_run=True).redacted == {"events": 1}
    report = erase_person(ws, shop.owner, PHONE)
    assert report.verified and report.redacted == {"events": 1}
    [(properties,)] = ws.warehouse.rows(
        "SELECT properties::VARCHAR FROM events WHERE event_id = ?", [referral]
    )
    assert json.loads(properties)["referee_phone"] is None
    assert reference not in properties and locate(ws, LI) == li
    assert not any(t in properties for t in zhang.tokens)
