"""At rest: the warehouse file's raw bytes hold no identifier or sensitive value in clear, before or after reads."""

from __future__ import annotations

from huaxiang.ingest import list_quarantine, show_quarantined
from huaxiang.privacy.persons import Identifier
from huaxiang.privacy.reader import mask_quarantined_record, read_consent, read_person
from huaxiang.privacy.roles import ROLES
from tests.privacy.conftest import SECRETS, Shop, as_role, warehouse_bytes


def test_no_plaintext_after_ingest(shop: Shop) -> None:
    raw = warehouse_bytes(shop.workspace)
    assert len(raw) > 0
    for secret in SECRETS:
        assert secret.encode() not in raw, secret


def test_no_plaintext_after_every_role_read_everything(shop: Shop) -> None:
    ws = shop.workspace
    for role in ROLES:
        read_person(ws, as_role(role), Identifier("phone", "+8613812345678"), "customer_service")
    read_consent(ws, as_role("dpo"), Identifier("phone", "+8613700002222"))
    record = show_quarantined(ws, list_quarantine(ws)[0].quarantine_id)
    assert record.raw is not None
    mask_quarantined_record(ws, as_role("dpo"), record.source, record.quarantine_id, record.raw)
    raw = warehouse_bytes(ws)
    for secret in SECRETS:
        assert secret.encode() not in raw, secret
