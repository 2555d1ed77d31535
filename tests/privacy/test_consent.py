"""Consent: latest decision wins with its evidence, no record means no consent, minors need a guardian."""

from __future__ import annotations

from datetime import date

from huaxiang.privacy.consent import PERSONALISATION, activation_filter, consent_states, person_consent
from huaxiang.privacy.persons import Identifier, PersonRecords, TokenClosure
from tests.privacy.conftest import Shop

AS_OF = date(2024, 6, 1)


def person(shop: Shop, phone: str) -> PersonRecords:
    ws = shop.workspace
    return TokenClosure().locate(ws.warehouse, [Identifier("phone", phone).token(ws.keyring)])


def test_the_latest_decision_wins_and_keeps_its_evidence(shop: Shop) -> None:
    ws = shop.workspace
    ledger = person_consent(ws.warehouse, ws.cipher, person(shop, "+8613812345678"), as_of=AS_OF)
    sms = ledger.state("marketing_sms")
    assert sms.status == "denied" and not sms.allowed
    assert sms.decided_by is not None
    assert (sms.decided_by.evidence, sms.decided_by.source) == ("app-settings-2", "consent")
    assert sms.decided_by.at.isoformat() == "2024-02-01T01:00:00"  # 09:00 Asia/Shanghai, stored in UTC
    assert sms.decided_by.record_ref.startswith("data/consent.csv:")
    # The whole history stays, oldest first: the grant is evidence too.
    assert [(r.purpose, r.granted, r.evidence) for r in ledger.history] == [
        ("marketing_sms", True, "signup-form-1"),
        ("marketing_sms", False, "app-settings-2"),
        ("marketing_email", True, "signup-form-1"),
    ]
    assert ledger.state("marketing_email").allowed
    assert ledger.state("analytics").status == "no_record"
    assert ledger.state("some_new_purpose").status == "no_record"


def test_refusing_personalisation_is_recorded_per_purpose(shop: Shop) -> None:
    ws = shop.workspace
    ledger = person_consent(ws.warehouse, ws.cipher, person(shop, "+8613900001111"), as_of=AS_OF)
    assert ledger.state(PERSONALISATION).status == "denied"
    assert ledger.state("marketing_sms").allowed


def test_a_minor_needs_a_guardians_consent(shop: Shop) -> None:
    ws = shop.workspace
    ledger = person_consent(ws.warehouse, ws.cipher, person(shop, "+8613700002222"), as_of=AS_OF)
    assert ledger.minor and ledger.birth_dates == (date(2015, 6, 1),)
    assert ledger.state("marketing_sms").status == "needs_guardian"
    assert ledger.state("marketing_email").status == "granted"  # given with guardian=yes
    # On the day they turn 14 they are no longer a minor; the earlier decision stands on its own.
    grown = person_consent(ws.warehouse, ws.cipher, person(shop, "+8613700002222"), as_of=date(2029, 6, 1))
    assert not grown.minor and grown.state("marketing_sms").status == "granted"


def test_activation_keeps_only_consenting_people(shop: Shop) -> None:
    ws = shop.workspace
    locator = TokenClosure()
    states = {
        s.person_key: s
        for s in consent_states(ws.warehouse, ws.cipher, "marketing_sms", locator, as_of=AS_OF)
    }
    keys = {
        phone: person(shop, phone).key
        for phone in ("+8613812345678", "+8613900001111", "+8613700002222", "+8613600003333")
    }
    assert set(keys.values()) <= set(states)
    chosen = activation_filter(ws.warehouse, ws.cipher, "marketing_sms", keys.values(), locator, as_of=AS_OF)
    assert chosen.allowed == {keys["+8613900001111"], keys["+8613600003333"]}
    assert chosen.excluded == {keys["+8613812345678"]: "denied", keys["+8613700002222"]: "needs_guardian"}
    unknown = activation_filter(
        ws.warehouse, ws.cipher, "marketing_sms", ["not-a-person"], locator, as_of=AS_OF
    )
    assert unknown.allowed == frozenset() and unknown.excluded == {"not-a-person": "no_record"}


def test_bulk_states_agree_with_the_per_person_ledger(shop: Shop) -> None:
    ws = shop.workspace
    for purpose in ("marketing_sms", "marketing_email", PERSONALISATION):
        bulk = {
            s.person_key: s.status
            for s in consent_states(ws.warehouse, ws.cipher, purpose, TokenClosure(), as_of=AS_OF)
        }
        for phone in ("+8613812345678", "+8613900001111", "+8613700002222"):
            one = person(shop, phone)
            assert (
                bulk[one.key]
                == person_consent(ws.warehouse, ws.cipher, one, as_of=AS_OF).state(purpose).status
            )
