"""Hostile input: oversized and malformed identifiers, injection through every user string, traversal."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from huaxiang.config import parse_config
from huaxiang.errors import ConfigError, NotFoundError
from huaxiang.ingest import ingest_source
from huaxiang.privacy.consent import person_consent
from huaxiang.privacy.persons import Identifier, TokenClosure
from huaxiang.privacy.reader import mask_quarantined_record, read_person
from huaxiang.privacy.roles import InvalidInputError
from huaxiang.privacy.subjects import erase_person, export_person
from tests.privacy.conftest import Shop, as_role

INJECTIONS = (
    "' OR 1=1 --",
    "x'); DROP TABLE events; --",
    '"; DELETE FROM event_identifiers; --',
    "$1",
    "?",
    "\\x00",
)


def table_sizes(shop: Shop) -> dict[str, int]:
    w = shop.workspace.warehouse
    return {t: w.count(t) for t in ("events", "event_identifiers", "quarantine")}


def test_oversized_and_control_character_identifiers_are_refused_before_any_query(shop: Shop) -> None:
    huge = "1" * 10_000_000
    for value in (huge, "138\x0012345678", "", "13812345678\n", "\x7f"):
        with pytest.raises(InvalidInputError):
            Identifier("phone", value)
    for id_type in ("phone'; DROP TABLE events;--", "Phone", "", "a" * 64, "电话"):
        with pytest.raises(InvalidInputError):
            Identifier(id_type, "13812345678")
    assert "13812345678" not in repr(Identifier("phone", "13812345678"))


def test_injection_through_identifier_values_reaches_no_sql(shop: Shop) -> None:
    before = table_sizes(shop)
    for text in INJECTIONS:
        with pytest.raises(NotFoundError):
            read_person(shop.workspace, as_role("dpo"), Identifier("phone", text), "customer_service")
        with pytest.raises(NotFoundError):
            erase_person(shop.workspace, shop.owner, Identifier("email", text))
    assert table_sizes(shop) == before


def test_injection_through_purposes_and_references_is_refused(shop: Shop, tmp_path: Path) -> None:
    phone = Identifier("phone", "+8613812345678")
    for text in INJECTIONS:
        with pytest.raises(InvalidInputError):
            read_person(shop.workspace, as_role("dpo"), phone, text)
        with pytest.raises(InvalidInputError):
            erase_person(shop.workspace, shop.owner, phone, request_id=text)
    assert table_sizes(shop)["events"] > 0


def test_hostile_consent_data_is_ignored_not_executed(shop: Shop) -> None:
    ws = shop.workspace
    (ws.root / "data" / "consent.csv").write_text(
        "consent_id,phone,purpose,granted,guardian,evidence,at\n"
        "H1,13812345678,\"x'); DROP TABLE events; --\",yes,,'; DELETE FROM events; --,2024-03-01 09:00:00\n"
        "H2,13812345678,marketing_sms,maybe,,form,2024-03-02 09:00:00\n"
        'H3,13812345678,marketing_email,no,,"evidence with ""quotes"" and ; semicolons",2024-03-03 09:00:00\n',
        encoding="utf-8",
    )
    ingest_source(ws, "consent", force=True)
    person = TokenClosure().locate(ws.warehouse, [Identifier("phone", "+8613812345678").token(ws.keyring)])
    ledger = person_consent(ws.warehouse, ws.cipher, person, as_of=date(2024, 6, 1))
    sms, email = ledger.state("marketing_sms").decided_by, ledger.state("marketing_email").decided_by
    assert sms is not None and sms.evidence == "app-settings-2"  # "maybe" is no decision
    assert email is not None and email.evidence == 'evidence with "quotes" and ; semicolons'
    assert all(r.purpose.isidentifier() for r in ledger.history)
    assert table_sizes(shop)["events"] > 0


def test_hostile_quarantine_columns_are_masked_as_personal(shop: Shop) -> None:
    raw = {"'; DROP TABLE events;--": "13812345678", "\x00": "张伟"}
    shown = mask_quarantined_record(shop.workspace, as_role("analyst"), "crm", "q-1", raw)
    assert shown == {"'; DROP TABLE events;--": "1*********8", "\x00": "张*"}


def test_table_names_cannot_steer_export_files_out_of_the_folder(shop: Shop, tmp_path: Path) -> None:
    ws = shop.workspace
    ws.warehouse.con.execute(
        "CREATE TABLE \"../../escaped\" AS SELECT event_id, 1 AS n FROM events WHERE source = 'crm'"
    )
    out = tmp_path / "export"
    result = export_person(ws, shop.owner, Identifier("phone", "+8613812345678"), out)
    assert "../../escaped" in result.tables
    assert all(f.resolve().parent == out.resolve() for f in result.files)
    assert not (tmp_path.parent / "escaped.csv").exists()


def test_config_paths_may_not_leave_the_workspace() -> None:
    for path in ("../secrets.csv", "/etc/passwd", "data/../../x.csv"):
        with pytest.raises(ConfigError, match="inside the workspace"):
            parse_config(
                f"sources:\n  - {{name: s, format: csv, path: '{path}', event_type: identify,"
                " fields: [{column: a, role: identifier}]}\n"
            )
