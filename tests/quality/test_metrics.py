"""The quality report's numbers, from warehouse rows staged by hand on real DuckDB."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from huaxiang.backends.duckdb import Warehouse
from huaxiang.privacy.crypto import FieldCipher, Keyring
from huaxiang.quality import build_quality_report

if TYPE_CHECKING:
    from conftest import Seed


def _two_sources(seed: Seed) -> None:
    """crm: a fresh profile source, many e-mails empty; shop: a purchase feed last heard of 60 days ago."""
    now = seed.now
    seed.run("crm", "crm-1", read=10, accepted=8, quarantined=2, duplicates=1)
    seed.run("crm", "crm-2", read=5, accepted=5, quarantined=0)
    seed.run("crm", "crm-r", read=2, accepted=1, quarantined=1, kind="retry")
    seed.stats(
        "crm", "crm-1", "phone", records=10, present=10, valid=9, distinct=9, role="identifier", kind="phone"
    )
    seed.stats(
        "crm", "crm-2", "phone", records=5, present=5, valid=5, distinct=4, role="identifier", kind="phone"
    )
    seed.stats(
        "crm", "crm-1", "email", records=10, present=5, valid=5, distinct=5, role="identifier", kind="email"
    )
    seed.stats(
        "crm", "crm-2", "email", records=5, present=0, valid=0, distinct=0, role="identifier", kind="email"
    )
    # a retry re-reads records its ingest batch already counted: ignored
    seed.stats(
        "crm", "crm-r", "phone", records=99, present=0, valid=0, distinct=0, role="identifier", kind="phone"
    )
    seed.run("shop", "shop-1", read=4, accepted=4, quarantined=0)
    seed.stats(
        "shop", "shop-1", "phone", records=4, present=4, valid=4, distinct=1, role="identifier", kind="phone"
    )
    seed.stats(
        "shop", "shop-1", "amount", records=4, present=4, valid=3, distinct=3, role="property", kind="money"
    )
    seed.event(
        "crm", ts=now - timedelta(hours=2), received_at=now - timedelta(hours=1), identifiers={"phone": "p1"}
    )
    seed.event(
        "crm", ts=now - timedelta(hours=5), received_at=now - timedelta(hours=1), identifiers={"phone": "p2"}
    )
    seed.event(
        "crm", ts=now - timedelta(hours=9), received_at=now - timedelta(hours=1), identifiers={"phone": "p3"}
    )
    for days in (60, 61, 62, 63):
        seed.event("shop", type="purchase", ts=now - timedelta(days=days), identifiers={"phone": "p1"})


def test_field_counts_are_summed_over_ingest_batches(warehouse: Warehouse, seed: Seed) -> None:
    _two_sources(seed)
    report = build_quality_report(warehouse, now=seed.now)
    crm = report.source("crm")
    phone, email = crm.fields
    assert (phone.field, phone.records, phone.present, phone.valid, phone.distinct) == (
        "phone",
        15,
        15,
        14,
        13,
    )
    assert phone.completeness == 1.0
    assert phone.validity == pytest.approx(14 / 15)
    assert phone.uniqueness == pytest.approx(13 / 14)
    assert email.completeness == pytest.approx(5 / 15)
    assert email.validity == 1.0
    assert crm.completeness == pytest.approx(20 / 30)
    assert crm.validity == pytest.approx(19 / 20)


def test_uniqueness_is_scored_only_for_identifiers_of_profile_sources(
    warehouse: Warehouse, seed: Seed
) -> None:
    _two_sources(seed)
    report = build_quality_report(warehouse, now=seed.now)
    assert report.source("crm").profile_source
    shop = report.source("shop")
    assert not shop.profile_source
    assert all(f.uniqueness is None for f in shop.fields)
    assert shop.uniqueness is None
    # the dimension is over crm's identifier fields only: (9 + 4 + 5 + 0) distinct of (14 + 5) valid
    assert report.dimensions["uniqueness"] == pytest.approx(100 * 18 / 19, abs=0.05)


def test_run_counts_move_readmitted_records_out_of_quarantine(warehouse: Warehouse, seed: Seed) -> None:
    _two_sources(seed)
    crm = build_quality_report(warehouse, now=seed.now).source("crm")
    assert (crm.records_read, crm.accepted, crm.quarantined, crm.duplicates) == (15, 14, 1, 1)
    assert crm.records_read == crm.accepted + crm.quarantined
    assert crm.quarantine_rate == pytest.approx(1 / 15)


def test_freshness_and_timeliness_follow_the_latest_event(warehouse: Warehouse, seed: Seed) -> None:
    _two_sources(seed)
    seed.run("app", "app-1", read=1, accepted=1, quarantined=0)
    seed.event("app", type="page_view", ts=seed.now - timedelta(days=15, hours=12))
    report = build_quality_report(warehouse, now=seed.now)
    crm, shop, app = report.source("crm"), report.source("shop"), report.source("app")
    assert crm.freshness_lag == 2 * 3600
    assert crm.ingest_lag == 4 * 3600  # median of 1, 4 and 8 hours late
    assert crm.timeliness == 1.0
    assert shop.freshness_lag == 60 * 86400
    assert shop.timeliness == 0.0
    # 15.5 days: 14.5 of the 29 days between fresh (1 day) and stale (30 days)
    assert app.timeliness == pytest.approx(1 - 14.5 / 29)
    assert report.dimensions["timeliness"] == pytest.approx(100 * (1 + 0 + 0.5) / 3, abs=0.05)


def test_a_stale_source_scores_below_a_fresh_one(warehouse: Warehouse, seed: Seed) -> None:
    for name, age in (("fresh", timedelta(hours=1)), ("stale", timedelta(days=90))):
        seed.run(name, f"{name}-1", read=2, accepted=2, quarantined=0)
        seed.stats(name, f"{name}-1", "city", records=2, present=2, valid=2, distinct=2)
        seed.event(name, ts=seed.now - age)
    report = build_quality_report(warehouse, now=seed.now)
    assert report.source("fresh").score == 100.0
    assert report.source("stale").score == pytest.approx(100 * 2 / 3, abs=0.05)  # complete, valid, stale


def test_top_quarantine_reasons_drop_the_rejected_value(warehouse: Warehouse, seed: Seed) -> None:
    bad_phone = {"field": "手机号", "reason": "invalid phone: not a mobile number 1380000"}
    seed.quarantine("crm", [bad_phone])
    seed.quarantine("crm", [bad_phone])
    seed.quarantine(
        "crm", [bad_phone, {"field": "*", "reason": "no usable identifier: expected a valid phone"}]
    )
    seed.quarantine("crm", [bad_phone], status="readmitted")
    seed.quarantine("shop", [{"field": "下单时间", "reason": "event time is missing"}])
    report = build_quality_report(warehouse, now=seed.now)
    reasons = [(r.field, r.reason, r.count) for r in report.source("crm").top_reasons]
    assert reasons == [("手机号", "invalid phone", 3), ("*", "no usable identifier", 1)]
    assert [(r.field, r.count) for r in report.source("shop").top_reasons] == [("下单时间", 1)]
    assert "1380000" not in str(report.to_dict())


def test_one_phone_with_two_birth_dates_is_a_cross_source_conflict(warehouse: Warehouse, seed: Seed) -> None:
    now = seed.now
    seed.event(
        "crm", ts=now, identifiers={"phone": "+8613800000001"}, attributes={"birth_date": "1990-01-02"}
    )
    seed.event(
        "shop", ts=now, identifiers={"phone": "+8613800000001"}, attributes={"birth_date": "1991-03-04"}
    )
    # formatting alone is no conflict
    seed.event("crm", ts=now, identifiers={"phone": "+8613800000002"}, attributes={"full_name": "张三"})
    seed.event("shop", ts=now, identifiers={"phone": "+8613800000002"}, attributes={"full_name": " 张三 "})
    seed.event(
        "crm", ts=now, identifiers={"phone": "+8613800000003"}, attributes={"birth_date": "1985-05-05"}
    )
    seed.event(
        "crm", ts=now, identifiers={"phone": "+8613800000003"}, attributes={"birth_date": "1985-05-05"}
    )
    # seen once only: cannot disagree, so not checked
    seed.event(
        "crm", ts=now, identifiers={"phone": "+8613800000004"}, attributes={"birth_date": "1970-07-07"}
    )
    # a weak identifier type is not checked
    seed.event("crm", ts=now, identifiers={"device_id": "d1"}, attributes={"gender": "m"})
    seed.event("app", ts=now, identifiers={"device_id": "d1"}, attributes={"gender": "f"})
    report = build_quality_report(warehouse, now=now)
    findings = {(f.identifier_type, f.attribute): f for f in report.consistency}
    assert set(findings) == {("phone", "birth_date"), ("phone", "full_name")}
    births = findings[("phone", "birth_date")]
    assert (births.tokens_checked, births.tokens_with_conflicts, births.cross_source) == (2, 1, 1)
    names = findings[("phone", "full_name")]
    assert (names.tokens_checked, names.tokens_with_conflicts) == (1, 0)
    assert report.dimensions["consistency"] == pytest.approx(100 * (1 - 1 / 3), abs=0.05)
    (example,) = births.examples
    assert example.token_prefix == seed.token("phone", "+8613800000001")[:8]
    shown = sorted((v.masked, v.events, v.sources) for v in example.values)
    assert shown == [("1***-**-*2", 1, ("crm",)), ("1***-**-*4", 1, ("shop",))]
    text = str(report.to_dict())
    assert "1990-01-02" not in text
    assert "13800000001" not in text


def test_encrypted_attributes_are_compared_only_with_the_cipher(warehouse: Warehouse, seed: Seed) -> None:
    cipher = FieldCipher(Keyring(current="k1", keys={"k1": bytes(range(32))}))

    def sealed(value: str) -> str:  # a fresh nonce each time, as each ingest batch does
        return "enc:" + base64.b64encode(cipher.encrypt(value, context="full_name")).decode()

    for source, name in (("crm", "李四"), ("shop", "李四"), ("app", "李 四")):
        seed.event(
            source,
            ts=seed.now,
            identifiers={"email": "li@example.cn"},
            attributes={"full_name": sealed(name)},
        )
    assert build_quality_report(warehouse, now=seed.now).consistency == ()
    (finding,) = build_quality_report(warehouse, now=seed.now, cipher=cipher).consistency
    assert (finding.identifier_type, finding.tokens_checked, finding.tokens_with_conflicts) == ("email", 1, 1)
    assert sorted(v.masked for v in finding.examples[0].values) == ["李 *", "李*"]


def test_an_empty_warehouse_gives_an_empty_report(warehouse: Warehouse) -> None:
    report = build_quality_report(warehouse)
    assert report.sources == ()
    assert report.consistency == ()
    assert report.overall is None
    assert set(report.dimensions.values()) == {None}


def test_a_read_only_warehouse_can_be_measured(warehouse: Warehouse, seed: Seed) -> None:
    _two_sources(seed)
    path = warehouse.path
    assert path is not None
    warehouse.close()
    reader = Warehouse(path, read_only=True)
    try:
        report = build_quality_report(reader, now=seed.now)
    finally:
        reader.close()
    assert [s.source for s in report.sources] == ["crm", "shop"]


def test_overall_is_the_mean_of_the_dimensions_measured(warehouse: Warehouse, seed: Seed) -> None:
    _two_sources(seed)
    report = build_quality_report(warehouse, now=seed.now)
    measured = [v for v in report.dimensions.values() if v is not None]
    assert report.dimensions["consistency"] is None  # no token seen twice with an attribute
    assert report.overall == pytest.approx(sum(measured) / len(measured), abs=0.1)


def test_attribute_names_must_be_plain_identifiers(warehouse: Warehouse) -> None:
    with pytest.raises(ValueError, match="plain identifiers"):
        build_quality_report(warehouse, attributes=["birth_date') OR ('1"])
