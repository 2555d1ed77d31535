"""Identity resolution end to end on a real warehouse: rules, stable ids, merges, splits, overrides, scope."""

from __future__ import annotations

import json
import re

from huaxiang.identity.explain import explain
from huaxiang.identity.lookup import find_persons
from huaxiang.identity.overrides import record_override
from tests.conftest import MakeWorkspace
from tests.identity.shop import id_card, open_shop

T0 = "2025-01-01 10:00:00"


def test_one_customer_seen_by_crm_till_and_web_is_one_person(make_workspace: MakeWorkspace) -> None:
    shop = open_shop(make_workspace)
    shop.add("crm", [("C1", "138 1234 5678", "li@example.cn", "", "李雷", T0)])
    shop.add(
        "orders",
        [("O1", "U1", "+86 138-1234-5678", "", "2025-02-01 10:00:00"), ("O2", "U1", "", "", "2025-03-01")],
    )
    shop.add(
        "web",
        [
            ("E1", "D1", "", "page_view", "2025-01-31 09:00:00"),
            ("E2", "D1", "U1", "login", "2025-01-31 09:05:00"),
        ],
    )
    report = shop.resolve()
    persons = shop.persons()
    assert len(persons) == 5 and len(set(persons.values())) == 1
    assert re.fullmatch(r"P[0-9a-f]{12}", next(iter(persons.values())))
    assert report.mode == "full" and report.persons == 1 and report.created == 1
    assert report.attributed == {"identifier": 4, "next_login": 1}


def test_two_id_cards_never_share_a_person_and_the_weaker_link_is_cut(make_workspace: MakeWorkspace) -> None:
    shop = open_shop(make_workspace)
    family_phone = "13912345678"
    shop.add(
        "crm",
        [
            ("C1", family_phone, "", id_card("110105", "19800101", 1), "王伟", T0),
            ("C2", family_phone, "", id_card("310104", "19820202", 2), "王芳", "2025-01-02 10:00:00"),
        ],
    )
    shop.add("orders", [("O1", "", family_phone, "", "2025-02-01 10:00:00")])
    report = shop.resolve()
    first, second = shop.person("crm", f"C1|{T0}"), shop.person("crm", "C2|2025-01-02 10:00:00")
    assert first != second
    assert shop.person("orders", "O1") == first  # the phone stays on its older link
    assert report.conflicts == 1
    [(kept, other, evidence)] = shop.log("conflict")
    cut = json.loads(evidence)
    assert cut["rule"] == "max_per_person of crm_id, id_card"
    assert {cut["link"]["a_type"], cut["link"]["b_type"]} == {"id_card", "phone"}
    assert {kept, other} == {first, second}
    shop.resolve(full=True)
    assert len(shop.log("conflict")) == 1  # the same cut is logged once, not on every run


def test_a_shared_tablet_never_merges_a_household(make_workspace: MakeWorkspace) -> None:
    shop = open_shop(make_workspace)
    logins = [(f"E{i}", "TABLET", f"U{i}", "login", f"2025-01-0{i} 10:00:00") for i in range(1, 4)]
    kiosk = [(f"K{i}", "KIOSK", f"U{i}", "login", f"2025-01-0{i} 12:00:00") for i in range(1, 5)]
    anonymous = [
        ("A1", "KIOSK", "", "page_view", "2025-01-09 12:00:00"),
        ("A2", "KIOSK", "", "search", "2025-01-09 12:01:00"),
    ]
    shop.add("web", logins + kiosk + anonymous)
    report = shop.resolve()
    users = {shop.person("web", f"E{i}") for i in range(1, 4)}
    assert len(users) == 3
    shared = shop.workspace.warehouse.rows(
        "SELECT DISTINCT person_id FROM identity_assignments WHERE id_type = 'device_id' AND role = 'shared'"
    )
    assert {r[0] for r in shared} == users  # the tablet is attached to each of them; the kiosk to nobody
    kiosk_person = shop.person("web", "A1")
    assert shop.person("web", "A2") == kiosk_person and kiosk_person not in users
    assert shop.person("web", "K4") not in {kiosk_person, *users}
    assert report.shared_over_limit == 1
    [(_, _, evidence)] = shop.log("shared_over_limit")
    assert json.loads(evidence)["persons"] == 4 and json.loads(evidence)["limit"] == 3


def test_blocklisted_values_link_nobody(make_workspace: MakeWorkspace) -> None:
    identity = """\
identity:
  match: {enabled: false}
  types:
    phone: {blocklist: ["139 0000 0000"]}
"""
    shop = open_shop(make_workspace, identity)
    shop.add(
        "orders",
        [
            ("O1", "U1", "13900000000", "test@test.com", T0),
            ("O2", "U2", "+8613900000000", "TEST@test.com", T0),
            ("O3", "", "13900000000", "", T0),
        ],
    )
    shop.resolve()
    people = {shop.person("orders", key) for key in ("O1", "O2", "O3")}
    assert len(people) == 3
    assigned = shop.workspace.warehouse.rows("SELECT DISTINCT id_type FROM identity_assignments")
    assert {r[0] for r in assigned} == {"user_id"}
    via = shop.workspace.warehouse.rows(
        "SELECT via FROM event_persons p JOIN events e USING (event_id) WHERE record_key = 'O3'"
    )
    assert via == [("event",)]


def test_anonymous_device_events_go_to_the_last_login(make_workspace: MakeWorkspace) -> None:
    shop = open_shop(make_workspace)
    shop.add(
        "web",
        [
            ("A0", "FAMILY", "", "page_view", "2025-01-01 08:00:00"),
            ("L1", "FAMILY", "U1", "login", "2025-01-01 09:00:00"),
            ("A1", "FAMILY", "", "page_view", "2025-01-01 09:30:00"),
            ("L2", "FAMILY", "U2", "login", "2025-01-01 10:00:00"),
            ("A2", "FAMILY", "", "search", "2025-01-01 10:30:00"),
            ("N1", "NEVER", "", "page_view", "2025-01-01 11:00:00"),
            ("N2", "NEVER", "", "page_view", "2025-01-01 12:00:00"),
        ],
    )
    shop.resolve()
    u1, u2 = shop.person("web", "L1"), shop.person("web", "L2")
    assert u1 != u2
    assert shop.person("web", "A0") == u1  # before any login: the session that logged in next
    assert shop.person("web", "A1") == u1
    assert shop.person("web", "A2") == u2
    never = shop.person("web", "N1")
    assert shop.person("web", "N2") == never and never not in {u1, u2}


def test_more_data_keeps_every_existing_id(make_workspace: MakeWorkspace) -> None:
    shop = open_shop(make_workspace)
    shop.add("orders", [(f"O{i}", f"U{i}", f"1380000{i:04d}", "", T0) for i in range(1, 9)])
    shop.resolve()
    before = shop.persons()
    shop.add(
        "orders",
        [
            ("O20", "U2", "", "", "2025-02-01"),
            ("O21", "U21", "13800000003", "", "2025-02-01"),
            ("O22", "U22", "", "", "2025-02-01"),
        ],
        part=2,
    )
    report = shop.resolve()
    after = shop.persons()
    assert report.mode == "incremental" and report.new_events == 3
    assert all(after[key] == person for key, person in before.items())
    assert after[("orders", "O20")] == before[("orders", "O2")]
    assert after[("orders", "O21")] == before[("orders", "O3")]
    assert after[("orders", "O22")] not in before.values()


def test_a_merge_keeps_the_oldest_id_and_the_absorbed_id_still_finds_the_person(
    make_workspace: MakeWorkspace,
) -> None:
    shop = open_shop(make_workspace)
    shop.add("orders", [("O1", "U1", "13811112222", "", T0)])
    shop.resolve()
    older = shop.person("orders", "O1")
    shop.add("orders", [("O2", "U2", "", "zhang@example.cn", "2025-02-01")], part=2)
    shop.resolve()
    newer = shop.person("orders", "O2")
    assert newer != older
    shop.add("orders", [("O3", "", "13811112222", "zhang@example.cn", "2025-03-01")], part=3)
    report = shop.resolve()
    assert report.merges == 1
    assert {shop.person("orders", k) for k in ("O1", "O2", "O3")} == {older}
    found = find_persons(shop.workspace, newer)
    assert found.persons == (older,) and found.alias_of == older
    [explained] = explain(shop.workspace, newer)
    assert explained.person_id == older and explained.aliases == (newer,)
    assert [(c.action, c.person_id, c.other_id) for c in explained.history] == [("merge", older, newer)]
    [(survivor, absorbed, evidence)] = shop.log("merge")
    assert (survivor, absorbed) == (older, newer)
    merge = json.loads(evidence)
    assert merge["rule"] == "shared identifier"
    assert any({link["a_type"], link["b_type"]} == {"phone", "email"} for link in merge["links"])
    assert all(len(link["a"]) == 8 and len(link["b"]) == 8 for link in merge["links"])


def test_cannot_link_splits_and_is_honoured_by_later_runs(make_workspace: MakeWorkspace) -> None:
    shop = open_shop(make_workspace)
    phone = "13722223333"
    shop.add(
        "orders",
        [("O1", "U1", phone, "", T0), ("O2", "U1", "", "", T0), ("O3", "U2", phone, "", "2025-01-02")],
    )
    shop.resolve()
    original = shop.person("orders", "O1")
    assert shop.person("orders", "O3") == original
    record_override(
        shop.workspace, "cannot_link", "user_id:U1", "user_id:U2", note="two people", author="steward"
    )
    report = shop.resolve()
    assert report.mode == "incremental" and report.splits == 1
    assert (
        shop.person("orders", "O1") == shop.person("orders", "O2") == original
    )  # the larger part keeps the id
    part = shop.person("orders", "O3")
    assert part != original
    [(new_id, from_id, evidence)] = shop.log("split")
    assert (new_id, from_id) == (part, original)
    assert json.loads(evidence)["rule"] == "steward cannot-link"
    shop.add("orders", [("O4", "U2", phone, "", "2025-03-01")], part=2)
    shop.resolve()
    shop.resolve(full=True)
    assert shop.person("orders", "O4") == part and shop.person("orders", "O1") == original


def test_must_link_is_honoured_by_later_runs(make_workspace: MakeWorkspace) -> None:
    shop = open_shop(make_workspace)
    shop.add("orders", [("O1", "U1", "", "", T0), ("O2", "U2", "", "", "2025-01-02")])
    shop.resolve()
    first, second = shop.person("orders", "O1"), shop.person("orders", "O2")
    assert first != second
    record_override(shop.workspace, "must_link", first, second, author="steward")
    report = shop.resolve()
    assert report.merges == 1
    [(survivor, absorbed, evidence)] = shop.log("merge")
    assert {survivor, absorbed} == {first, second}  # made in one run: the smaller id is the older
    assert json.loads(evidence)["rule"] == "steward must-link"
    shop.add("orders", [("O3", "U2", "", "", "2025-02-01")], part=2)
    shop.resolve()
    shop.resolve(full=True)
    assert {shop.person("orders", k) for k in ("O1", "O2", "O3")} == {survivor}
    record_override(shop.workspace, "cannot_link", "user_id:U1", "user_id:U2", author="steward")
    shop.resolve()
    assert shop.person("orders", "O1") != shop.person("orders", "O3")


def test_an_incremental_run_touches_only_the_persons_new_events_reach(make_workspace: MakeWorkspace) -> None:
    shop = open_shop(make_workspace)
    shop.add("orders", [("O1", "U1", "", "", T0), ("O2", "U1", "", "", T0), ("O3", "U2", "", "", T0)])
    shop.resolve()
    untouched = shop.workspace.warehouse.rows(
        "SELECT * FROM event_persons e JOIN events v USING (event_id) WHERE record_key = 'O3'"
    )
    shop.add("orders", [("O4", "U1", "", "", "2025-02-01")], part=2)
    report = shop.resolve()
    assert (report.mode, report.new_events, report.scope_events, report.scope_persons) == (
        "incremental",
        1,
        3,
        1,
    )
    assert untouched == shop.workspace.warehouse.rows(
        "SELECT * FROM event_persons e JOIN events v USING (event_id) WHERE record_key = 'O3'"
    )
    nothing = shop.resolve()
    assert (nothing.new_events, nothing.scope_events) == (0, 0)


def test_changed_rules_make_the_next_run_full(make_workspace: MakeWorkspace) -> None:
    shop = open_shop(make_workspace)
    shop.add("orders", [("O1", "U1", "13655556666", "", T0), ("O2", "U2", "13655556666", "", T0)])
    shop.resolve()
    assert shop.person("orders", "O1") == shop.person("orders", "O2")
    config = shop.root / "huaxiang.yaml"
    config.write_text(
        config.read_text().replace(
            "  match: {enabled: false}\n",
            "  match: {enabled: false}\n  types:\n    phone: {blocklist: ['13655556666']}\n",
        )
    )
    shop.workspace.reload_config()
    report = shop.resolve()
    assert report.mode == "full" and report.splits == 1
    assert shop.person("orders", "O1") != shop.person("orders", "O2")


def test_an_empty_warehouse_resolves_to_nobody(make_workspace: MakeWorkspace) -> None:
    shop = open_shop(make_workspace)
    report = shop.resolve()
    assert (report.mode, report.scope_events, report.persons) == ("full", 0, 0)
    assert shop.resolve().mode == "incremental"
