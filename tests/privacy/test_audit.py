"""The audit chain: intact after appends; any edit, deletion or reordering done with SQL is found and located."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from huaxiang.backends.duckdb import Warehouse
from huaxiang.privacy import audit
from huaxiang.privacy.crypto import Keyring
from huaxiang.privacy.roles import Principal

ANALYST = Principal("p-1", "li", "analyst")


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[tuple[Warehouse, Keyring, Path]]:
    warehouse = Warehouse(tmp_path / "w.duckdb")
    keyring = Keyring(current="k1", keys={"k1": bytes(range(32))})
    anchor = tmp_path / "audit.anchor"
    start = datetime(2024, 6, 1, 9, 0, 0, 123456)
    for n in range(1, 7):
        audit.record(
            warehouse,
            keyring,
            anchor,
            ANALYST,
            action="read_person",
            purpose="customer_service",
            subjects=[f"ref{n}"],
            fields=["phone:masked"],
            detail={"n": n},
            at=start + timedelta(minutes=n),
        )
    yield warehouse, keyring, anchor
    warehouse.close()


def kinds(result: audit.AuditVerification) -> list[tuple[int | None, str]]:
    return [(p.seq, p.kind) for p in result.problems]


def test_an_untouched_chain_verifies(chain: tuple[Warehouse, Keyring, Path]) -> None:
    warehouse, keyring, anchor = chain
    result = audit.verify_audit(warehouse, keyring, anchor)
    assert result.ok and result.entries == 6 and result.problems == ()


def test_an_edited_entry_is_named(chain: tuple[Warehouse, Keyring, Path]) -> None:
    warehouse, keyring, anchor = chain
    warehouse.con.execute("UPDATE audit_log SET purpose = 'marketing_sms' WHERE seq = 3")
    result = audit.verify_audit(warehouse, keyring, anchor)
    assert not result.ok and kinds(result) == [(3, "edited")]


def test_editing_and_rehashing_with_plain_sha256_is_still_found(
    chain: tuple[Warehouse, Keyring, Path],
) -> None:
    warehouse, keyring, anchor = chain
    warehouse.con.execute("UPDATE audit_log SET fields = ['phone:clear'], hash = sha256(hash) WHERE seq = 4")
    result = audit.verify_audit(warehouse, keyring, anchor)
    assert (4, "edited") in kinds(result)


def test_a_deleted_entry_is_located(chain: tuple[Warehouse, Keyring, Path]) -> None:
    warehouse, keyring, anchor = chain
    warehouse.con.execute("DELETE FROM audit_log WHERE seq = 4")
    result = audit.verify_audit(warehouse, keyring, anchor)
    assert kinds(result) == [(5, "deleted")]
    assert "between entry 3 and entry 5" in result.problems[0].message


def test_a_deleted_and_renumbered_entry_is_located(chain: tuple[Warehouse, Keyring, Path]) -> None:
    warehouse, keyring, anchor = chain
    warehouse.con.execute("DELETE FROM audit_log WHERE seq = 2")
    warehouse.con.execute("UPDATE audit_log SET seq = seq - 1 WHERE seq > 2")
    result = audit.verify_audit(warehouse, keyring, anchor)
    assert (2, "deleted") in kinds(result)


def test_reordered_entries_are_named(chain: tuple[Warehouse, Keyring, Path]) -> None:
    warehouse, keyring, anchor = chain
    warehouse.con.execute(
        "UPDATE audit_log SET seq = CASE seq WHEN 2 THEN 3 WHEN 3 THEN 2 END WHERE seq IN (2, 3)"
    )
    result = audit.verify_audit(warehouse, keyring, anchor)
    assert not result.ok
    assert result.problems[0].seq == 2 and result.problems[0].kind == "reordered"
    assert "belongs after entry 3" in result.problems[0].message
    assert {k for _, k in kinds(result)} == {"reordered"}


def test_deleting_the_last_entries_is_found_by_the_anchor(chain: tuple[Warehouse, Keyring, Path]) -> None:
    warehouse, keyring, anchor = chain
    warehouse.con.execute("DELETE FROM audit_log WHERE seq >= 5")
    result = audit.verify_audit(warehouse, keyring, anchor)
    assert kinds(result) == [(6, "truncated")]
    assert "5..6" in result.problems[0].message


def test_a_forged_anchor_is_refused(chain: tuple[Warehouse, Keyring, Path]) -> None:
    warehouse, keyring, anchor = chain
    warehouse.con.execute("DELETE FROM audit_log WHERE seq >= 5")
    head = warehouse.scalar("SELECT hash FROM audit_log WHERE seq = 4")
    anchor.write_text(json.dumps({"seq": 4, "hash": head, "mac": "00"}))
    result = audit.verify_audit(warehouse, keyring, anchor)
    assert not result.ok and "altered" in result.problems[0].message


def test_a_wrong_key_fails_every_entry(chain: tuple[Warehouse, Keyring, Path]) -> None:
    warehouse, _, anchor = chain
    other = Keyring(current="k1", keys={"k1": bytes(32)})
    result = audit.verify_audit(warehouse, other, anchor)
    assert [k for _, k in kinds(result)].count("edited") == 6


def test_list_filters_by_subject_principal_and_action(chain: tuple[Warehouse, Keyring, Path]) -> None:
    warehouse, *_ = chain
    assert [e.seq for e in audit.list_audit(warehouse, subjects=["ref2", "ref5"])] == [5, 2]
    assert len(audit.list_audit(warehouse, principal="p-1", action="read_person")) == 6
    assert audit.list_audit(warehouse, principal="nobody") == []
    entry = audit.list_audit(warehouse, limit=1)[0]
    assert entry.seq == 6 and entry.detail == {"n": 6} and entry.fields == ("phone:masked",)
