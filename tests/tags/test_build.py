"""Builds with the standard library on a real workspace: tag values, point in time, history and changes.

Expected values are worked out by hand from tests/traits/shop.py (RFM: two buyers, five bins).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from huaxiang.backends.duckdb import Warehouse
from huaxiang.errors import HuaxiangError, NotFoundError
from huaxiang.privacy.access import local_owner
from huaxiang.tags import history
from huaxiang.tags.build import build_profiles, parse_as_of
from huaxiang.tags.history import VersionCounts, record_versions
from huaxiang.tags.profiles import find_person, profile_card
from huaxiang.tags.reports import changes_since, tag_distribution
from huaxiang.workspace import Workspace
from tests.tags.conftest import END_OF_FEBRUARY, END_OF_MARCH, OpenShop

NOW = datetime(2024, 6, 1)


def current(workspace: Workspace, *columns: str) -> dict[str, tuple[Any, ...]]:
    rows = workspace.warehouse.rows(
        f"SELECT person_id, {', '.join(columns)} FROM {history.CURRENT} ORDER BY person_id"
    )
    return {row[0]: tuple(row[1:]) for row in rows}


@pytest.fixture(scope="module")
def built(open_shop: OpenShop) -> Workspace:
    """Two builds: as of the end of February, then of March."""
    workspace = open_shop("")
    build_profiles(workspace, as_of=END_OF_FEBRUARY, now=NOW)
    build_profiles(workspace, as_of=END_OF_MARCH, now=NOW)
    return workspace


def test_standard_tags_have_the_hand_computed_values(built: Workspace) -> None:
    values = current(
        built, "sex", "age", "age_band", "generation", "home_city", "lifecycle_stage", "order_count"
    )
    assert values == {
        "person-1": ("M", 33.0, "25_34", "post_90", "北京市", "active", 3.0),
        "person-2": ("F", 23.0, "18_24", "post_00", "深圳市", "new", 1.0),
        "person-3": (None, None, None, None, None, "prospect", 0.0),
    }


def test_rfm_scores_and_groups(built: Workspace) -> None:
    # Recency 6 and 3 days, frequency 3 and 1 orders, spend 380.5 and 999: with two buyers and five bins
    # the lower value sits at bin ⌈5·1/2⌉ = 3 and the higher at 5; each score's mean is 4.
    values = current(built, "rfm_r", "rfm_f", "rfm_m", "rfm_group", "value_tier")
    assert values["person-1"] == (3.0, 5.0, 3.0, "general_retention", "gold")  # 一般保持客户
    assert values["person-2"] == (5.0, 3.0, 5.0, "important_development", "platinum")  # 重要发展客户
    assert values["person-3"] == (None, None, None, None, None)  # never bought: not scored


def test_the_february_build_saw_nothing_later(built: Workspace) -> None:
    person = history.version_at(built.warehouse, "person-1", END_OF_FEBRUARY)
    assert person is not None
    assert (person["orders_total"], person["spend_total"], person["city"]) == (2, 350.5, "上海市")
    assert history.version_at(built.warehouse, "person-3", END_OF_FEBRUARY) is None  # first seen 29 March


def test_versions_carry_valid_from_and_valid_to(built: Workspace) -> None:
    rows = built.warehouse.rows(
        f"SELECT valid_from, valid_to FROM {history.VERSIONS} WHERE person_id = 'person-1' ORDER BY valid_from"
    )
    assert rows == [(END_OF_FEBRUARY, END_OF_MARCH), (END_OF_MARCH, None)]


def test_changes_count_who_entered_and_left_each_value(built: Workspace) -> None:
    report = changes_since(built, "previous", "latest")
    lifecycle = {(c.value, c.entered, c.left, c.now) for c in report.changes if c.tag == "lifecycle_stage"}
    # person-2 went from prospect to new; person-3 appeared as a prospect; person-1 stayed active
    assert lifecycle == {("new", 1, 0, 1), ("prospect", 1, 1, 1)}
    assert report.since.as_of == END_OF_FEBRUARY and report.until.as_of == END_OF_MARCH


def test_profile_as_of_a_past_date_reads_the_version_valid_then(built: Workspace) -> None:
    owner = local_owner(built.key_file)
    card = profile_card(built, "C1", owner, moment=datetime(2024, 3, 15))
    assert card.person_id == "person-1"
    assert card.valid_from == END_OF_FEBRUARY and card.valid_to == END_OF_MARCH
    traits = {t.name: t.value for t in card.traits}
    assert traits["orders_total"] == 2
    assert {a.name: a.value for a in card.attributes}["city"] == "上海市"
    assert all(event.ts < datetime(2024, 3, 15) for event in card.timeline)
    today = profile_card(built, "person-1", owner)
    assert {t.name: t.value for t in today.traits}["orders_total"] == 3
    lifecycle = next(t for t in today.tags["lifecycle"] if t.name == "lifecycle_stage")
    assert (
        lifecycle.value == "active"
        and lifecycle.value_label is not None
        and lifecycle.value_label.zh == "活跃"
    )
    with pytest.raises(NotFoundError, match="no build knew this person"):
        profile_card(built, "C1", owner, moment=datetime(2024, 1, 1))


def test_profile_reads_are_audited(built: Workspace) -> None:
    before = built.warehouse.scalar("SELECT count(*) FROM audit_log WHERE action = 'read_profile'") or 0
    profile_card(built, "C2", local_owner(built.key_file), purpose="customer_service")
    rows = built.warehouse.rows(
        "SELECT purpose FROM audit_log WHERE action = 'read_profile' ORDER BY seq DESC LIMIT 1"
    )
    assert (
        built.warehouse.scalar("SELECT count(*) FROM audit_log WHERE action = 'read_profile'") == before + 1
    )
    assert rows == [("customer_service",)]


def test_people_are_found_by_any_identifier_or_id(built: Workspace) -> None:
    assert find_person(built, "C2") == "person-2"
    assert find_person(built, "crm_id:C2") == "person-2"
    assert find_person(built, "person-3") == "person-3"
    with pytest.raises(NotFoundError):
        find_person(built, "C9")


def test_distribution_of_a_tag(built: Workspace) -> None:
    lifecycle = tag_distribution(built, "lifecycle_stage")
    assert (lifecycle.persons, lifecycle.missing) == (3, 0)
    assert dict(lifecycle.values) == {"active": 1, "new": 1, "prospect": 1}
    spend = tag_distribution(built, "total_spend")
    assert spend.summary is not None and spend.summary["max"] == 999.0


def test_rebuilding_the_same_day_adds_no_version(open_shop: OpenShop) -> None:
    workspace = open_shop("")
    first = build_profiles(workspace, as_of=END_OF_MARCH, now=NOW)
    again = build_profiles(workspace, as_of=END_OF_MARCH, now=NOW)
    assert (first.build.changed, again.build.changed) == (3, 0)
    assert workspace.warehouse.scalar(f"SELECT count(*) FROM {history.VERSIONS}") == 3


def test_a_backdated_build_is_slotted_into_the_history(open_shop: OpenShop) -> None:
    workspace = open_shop("")
    build_profiles(workspace, as_of=END_OF_FEBRUARY, now=NOW)
    build_profiles(workspace, as_of=END_OF_MARCH, now=NOW)
    middle = datetime(2024, 3, 15)
    build_profiles(workspace, as_of=middle, now=NOW)
    rows = workspace.warehouse.rows(
        f"SELECT valid_from, valid_to, orders_total FROM {history.VERSIONS} WHERE person_id = 'person-1' "
        "ORDER BY valid_from"
    )
    assert rows == [(END_OF_FEBRUARY, middle, 2), (middle, END_OF_MARCH, 2), (END_OF_MARCH, None, 3)]
    assert history.version_at(workspace.warehouse, "person-3", middle) is None


def test_reset_history_starts_afresh(open_shop: OpenShop) -> None:
    workspace = open_shop("")
    build_profiles(workspace, as_of=END_OF_FEBRUARY, now=NOW)
    report = build_profiles(workspace, as_of=END_OF_MARCH, now=NOW, reset_history=True)
    assert len(history.list_builds(workspace.warehouse)) == 1
    assert report.build.changed == 3


def test_user_definitions_join_and_override_the_standard_library(open_shop: OpenShop) -> None:
    workspace = open_shop(
        """
traits:
  definitions:
    - {name: orders_total, agg: count, where: "type = 'purchase'", label: {zh: 购买行数, en: Purchase lines}}
    - {name: digital_spend, agg: sum, of: amount, where: "category = '数码'"}
tags:
  lifecycle: {new_days: 7, active_days: 30, at_risk_days: 60, dormant_days: 120}
  definitions:
    - name: digital_fan
      dimension: interest
      value_type: boolean
      of: "digital_spend >= 300"
      label: {zh: 数码爱好者, en: Digital fan}
      owner: growth-team
"""
    )
    build_profiles(workspace, as_of=END_OF_MARCH, now=NOW)
    values = current(workspace, "orders_total", "digital_spend", "digital_fan", "lifecycle_stage")
    assert values["person-1"] == (5, 330.0, True, "active")  # five purchase lines, refunded one included
    assert values["person-2"] == (1, None, None, "new")  # first purchase 3 days ago < 7


def test_a_build_needs_resolved_persons(open_shop: OpenShop) -> None:
    workspace = open_shop("")
    workspace.warehouse.con.execute("DROP TABLE event_persons")
    with pytest.raises(HuaxiangError, match="no resolved persons"):
        build_profiles(workspace, now=NOW)


def test_as_of_dates_mean_the_end_of_that_day_in_the_workspace_zone() -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Shanghai")
    assert parse_as_of("2024-03-31", zone) == END_OF_MARCH
    assert parse_as_of("2024-03-31T08:00", zone) == datetime(2024, 3, 31, 0, 0)
    assert parse_as_of("2024-03-31T08:00+00:00", zone) == datetime(2024, 3, 31, 8, 0)
    with pytest.raises(HuaxiangError):
        parse_as_of("last tuesday", zone)


def test_a_double_that_differs_only_in_its_last_bits_is_not_a_change() -> None:
    """Parallel sums add in no fixed order: 0.1 + 0.2 against 0.3 must not make a new version."""
    warehouse = Warehouse(None)
    first = datetime(2024, 3, 1)

    def build(value: str, build_id: str, as_of: datetime) -> VersionCounts:
        warehouse.con.execute(
            f"CREATE OR REPLACE TEMP TABLE snap AS SELECT * FROM (VALUES ('p1', {value}, 2)) t(person_id, spend, n)"
        )
        return record_versions(warehouse, "snap", ["spend", "n"], build_id=build_id, as_of=as_of)

    build("0.1::DOUBLE + 0.2::DOUBLE", "b1", first)
    unchanged = build("0.3::DOUBLE", "b2", first + timedelta(days=1))
    changed = build("0.3001::DOUBLE", "b3", first + timedelta(days=2))
    assert (unchanged.changed, changed.changed) == (0, 1)
    assert warehouse.scalar("SELECT count(*) FROM profile_versions") == 2
