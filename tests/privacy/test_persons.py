"""Who a person is: the token closure (bounded), the identity-links locator, and their agreement."""

from __future__ import annotations

from huaxiang.config import IDENTIFIER_KINDS
from huaxiang.ingest.kinds import kind_named
from huaxiang.privacy.classification import DERIVED_FIELDS, classify
from huaxiang.privacy.persons import Identifier, IdentityLinks, TokenClosure, default_locator
from tests.privacy.conftest import Shop

PHONE = Identifier("phone", "+8613812345678")


def test_the_closure_follows_shared_identifiers(shop: Shop) -> None:
    ws = shop.workspace
    by_phone = TokenClosure().locate(ws.warehouse, [PHONE.token(ws.keyring)])
    by_device = TokenClosure().locate(
        ws.warehouse, [Identifier("device_id", "dev-zhang-tablet").token(ws.keyring)]
    )
    by_crm = TokenClosure().locate(ws.warehouse, [Identifier("crm_id", "C001").token(ws.keyring)])
    assert by_phone == by_device == by_crm
    assert not by_phone.truncated and len(by_phone.event_ids) == 8
    visits = ws.warehouse.rows(
        "SELECT properties->>'visit_id' FROM events WHERE event_id IN (SELECT unnest(?)) AND source = 'web' ORDER BY 1",
        [sorted(by_phone.event_ids)],
    )
    assert [v[0] for v in visits] == ["V1", "V2"]  # V2 carries only the shared device


def test_the_closure_stops_at_its_bound(shop: Shop) -> None:
    ws = shop.workspace
    bounded = TokenClosure(max_events=3).locate(ws.warehouse, [PHONE.token(ws.keyring)])
    assert bounded.truncated
    shallow = TokenClosure(max_rounds=1).locate(
        ws.warehouse, [Identifier("device_id", "dev-zhang-tablet").token(ws.keyring)]
    )
    assert shallow.truncated and len(shallow.event_ids) == 2


def test_an_unknown_identifier_finds_nobody(shop: Shop) -> None:
    ws = shop.workspace
    found = TokenClosure().locate(ws.warehouse, [Identifier("phone", "+8613999999999").token(ws.keyring)])
    assert not found.found and found.tokens == frozenset()


def test_assign_names_each_component_like_locate(shop: Shop) -> None:
    ws = shop.workspace
    TokenClosure().assign(ws.warehouse, "persons_now")
    keys = dict(ws.warehouse.rows("SELECT event_id, person_key FROM persons_now"))
    assert len(keys) == ws.warehouse.count("events")
    zhang = TokenClosure().locate(ws.warehouse, [PHONE.token(ws.keyring)])
    assert {keys[e] for e in zhang.event_ids} == {zhang.key}
    assert len(set(keys.values())) == 4  # 张伟, 李娜, 王小明, 赵强


def test_event_persons_take_over_once_they_exist(shop: Shop) -> None:
    ws = shop.workspace
    assert isinstance(default_locator(ws.warehouse), TokenClosure)
    ws.warehouse.con.execute(
        "CREATE TABLE event_persons AS SELECT event_id, 'P-' || left(min(token), 6) AS person_id "
        "FROM event_identifiers WHERE id_type = 'phone' GROUP BY event_id"
    )
    locator = default_locator(ws.warehouse)
    assert isinstance(locator, IdentityLinks)
    person = locator.locate(ws.warehouse, [PHONE.token(ws.keyring)])
    # Resolution here links by phone only, so the visit known only by the device is not this person's.
    assert len(person.person_ids) == 1 and len(person.event_ids) == 7
    assert person.key.startswith("P-")


def test_derived_fields_mirror_the_ingest_kinds() -> None:
    for kind, fields in DERIVED_FIELDS.items():
        assert kind_named(kind).derived_fields == fields
    for kind in IDENTIFIER_KINDS.values():
        kind_named(kind)


def test_classification_follows_the_config(shop: Shop) -> None:
    levels = classify(shop.workspace.config)
    assert levels.identifier("id_card").level == "sensitive"
    assert levels.identifier("phone").level == "personal"
    assert levels.attribute("bank_card").level == "sensitive"  # declared in huaxiang.yaml
    assert levels.attribute("birth_date").level == "personal"  # derived from the ID number
    assert levels.attribute("city").level == "internal"
    assert levels.attribute("never_declared").level == "personal"
    assert levels.column("crm", "身份证号").level == "sensitive"
    assert levels.column("crm", "更新时间").level == "internal"
