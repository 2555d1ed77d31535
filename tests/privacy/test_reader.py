"""Every read path masks by role and is audited: the profile read, the consent read, the quarantine read."""

from __future__ import annotations

from datetime import date

import pytest

from huaxiang.errors import NotFoundError
from huaxiang.ingest import list_quarantine, show_quarantined
from huaxiang.privacy import audit
from huaxiang.privacy.context import audit_anchor_path
from huaxiang.privacy.persons import Identifier
from huaxiang.privacy.reader import PersonView, mask_quarantined_record, read_consent, read_person
from huaxiang.privacy.roles import AccessDeniedError
from tests.privacy.conftest import ZHANG_ID, Shop, as_role

PHONE = Identifier("phone", "+8613812345678")
AS_OF = date(2024, 6, 1)


def fields(view: PersonView) -> dict[str, str | None]:
    return {f.name: f.value for f in (*view.identifiers, *view.attributes)}


def test_each_role_sees_what_the_policy_allows(shop: Shop) -> None:
    ws = shop.workspace
    analyst = fields(read_person(ws, as_role("analyst"), PHONE, "analytics", as_of=AS_OF))
    assert analyst["phone"] == "138****5678"
    assert analyst["full_name"] == "张*"
    assert analyst["email"] == "z***@example.com"
    assert analyst["address"] == "北京市朝阳区"
    assert "id_card" not in analyst and "bank_card" not in analyst  # sensitive: hidden
    assert analyst["crm_id"] == "C001"  # internal: clear

    service = fields(read_person(ws, as_role("service"), PHONE, "customer_service", as_of=AS_OF))
    assert service["phone"] == "+8613812345678" and service["full_name"] == "张伟"
    assert service["id_card"] == "110105********002X"  # sensitive: masked
    assert service["bank_card"] is not None and "0200112233" not in service["bank_card"]

    dpo = fields(read_person(ws, as_role("dpo"), PHONE, "data_subject_request", as_of=AS_OF))
    assert dpo["id_card"] == ZHANG_ID and dpo["bank_card"] == "6222020200112233445"


def test_the_person_is_everything_linked_to_the_identifier(shop: Shop) -> None:
    view = read_person(shop.workspace, as_role("dpo"), PHONE, "customer_service", as_of=AS_OF)
    # CRM row, two orders, two visits (one linked only through the shared device), three consent changes.
    assert view.events == 8
    assert view.sources == ("consent", "crm", "orders", "web")


def test_every_read_is_audited_without_plaintext(shop: Shop) -> None:
    ws = shop.workspace
    view = read_person(ws, as_role("marketer"), PHONE, "campaign_review", as_of=AS_OF)
    [entry] = audit.list_audit(ws.warehouse, limit=1)
    assert entry.seq == view.audit_seq
    assert (entry.principal, entry.role, entry.action, entry.purpose) == (
        "p-marketer",
        "marketer",
        "read_person",
        "campaign_review",
    )
    assert "phone:masked" in entry.fields and not any(f.startswith("id_card") for f in entry.fields)
    assert audit.subject_ref(PHONE.token(ws.keyring)) in entry.subjects
    text = repr(entry)
    assert "13812345678" not in text and "张伟" not in text
    assert audit.verify_audit(ws.warehouse, ws.keyring, audit_anchor_path(ws)).ok


def test_a_lookup_that_finds_nobody_is_audited_too(shop: Shop) -> None:
    ws = shop.workspace
    with pytest.raises(NotFoundError):
        read_person(ws, as_role("analyst"), Identifier("phone", "+8613999999999"), "analytics")
    [entry] = audit.list_audit(ws.warehouse, limit=1)
    assert entry.detail["found"] is False and entry.fields == ()


def test_a_minors_personal_data_is_treated_as_sensitive(shop: Shop) -> None:
    ws = shop.workspace
    view = read_person(
        ws, as_role("analyst"), Identifier("phone", "+8613700002222"), "analytics", as_of=AS_OF
    )
    shown = fields(view)
    assert view.minor
    assert "full_name" not in shown and "phone" not in shown and "address" not in shown  # sensitive: hidden
    assert shown["crm_id"] == "C003"


def test_consent_read_is_audited_and_needs_the_role(shop: Shop) -> None:
    ws = shop.workspace
    consent = read_consent(ws, as_role("service"), PHONE, as_of=AS_OF)
    assert consent.state("marketing_sms").status == "denied"
    assert audit.list_audit(ws.warehouse, limit=1)[0].action == "read_consent"
    with pytest.raises(AccessDeniedError):
        read_consent(ws, as_role("analyst"), PHONE)


def test_quarantined_records_are_masked_per_role_and_audited(shop: Shop) -> None:
    ws = shop.workspace
    [held] = list_quarantine(ws)
    analyst = show_quarantined(ws, held.quarantine_id, principal=as_role("analyst")).raw
    assert analyst is not None
    assert analyst["手机号"] == "138****5678"
    assert analyst["姓名"] == "张*"
    assert "身份证号" not in analyst  # sensitive
    assert analyst["客户编号"] == "C006" and analyst["更新时间"] == "2024-03-05 08:00:00"
    record = show_quarantined(ws, held.quarantine_id, principal=as_role("dpo"))
    assert record.raw is not None
    assert record.raw["身份证号"] == "110105194912310021"
    entry = audit.list_audit(ws.warehouse, action="read_quarantine", limit=1)[0]
    assert entry.detail == {"quarantine_id": record.quarantine_id, "source": "crm"}
    assert "身份证号:clear" in entry.fields and entry.role == "dpo"
    with pytest.raises(AccessDeniedError):
        mask_quarantined_record(ws, as_role("marketer"), record.source, record.quarantine_id, record.raw)
