"""The planted flaws and hard cases are really in the files, at the rates promised, and counted."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
import yaml
from stdnum.cn import ric

from huaxiang.demo.generator import SOURCE_FILES, DemoManifest
from huaxiang.demo.people import COMMON_NAMES
from tests.demo.conftest import read_csv_rows, read_source
from tests.demo.test_generator import WORKSPACE_YAML

BIG = ["crm", "online_orders", "pos_orders", "web_events"]


def _fields() -> dict[str, list[dict[str, Any]]]:
    config = yaml.safe_load(WORKSPACE_YAML.read_text(encoding="utf-8"))
    return {s["name"]: s["fields"] for s in config["sources"]}


def _issues(demo: DemoManifest, source: str) -> dict[int, list[str]]:
    issues: dict[int, list[str]] = defaultdict(list)
    for row in read_csv_rows(demo.out_dir / "truth" / "issues.csv"):
        if row["source"] == source:
            issues[int(row["row"])].append(row["issue"])
    return issues


def _truth(demo: DemoManifest, source: str) -> list[str]:
    return [
        r["true_id"] for r in read_csv_rows(demo.out_dir / "truth" / "records.csv") if r["source"] == source
    ]


def _valid_phone(value: object) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(str(value), "CN"))
    except phonenumbers.NumberParseException:
        return False


def _phone_digits(value: object) -> str:
    return "".join(ch for ch in str(value) if ch.isdigit())[-11:]


def test_bad_counts_in_the_manifest_match_the_issue_list(demo: DemoManifest) -> None:
    quarantined: Counter[str] = Counter()
    seen: set[tuple[str, str]] = set()
    for row in read_csv_rows(demo.out_dir / "truth" / "issues.csv"):
        if row["quarantine"] == "true" and (row["source"], row["row"]) not in seen:
            seen.add((row["source"], row["row"]))
            quarantined[row["source"]] += 1
    assert dict(quarantined) == {s: n for s, n in demo.bad_records.items() if n}
    assert all(demo.bad_records[s] > 0 for s in SOURCE_FILES)


@pytest.mark.parametrize("source", BIG)
def test_bad_records_and_duplicates_are_a_few_percent(demo: DemoManifest, source: str) -> None:
    issues = _issues(demo, source)
    duplicates = sum("duplicate" in codes for codes in issues.values())
    assert 0.005 <= demo.bad_records[source] / demo.records[source] <= 0.08
    assert 0.003 <= duplicates / demo.records[source] <= 0.05


@pytest.mark.parametrize("source", list(SOURCE_FILES))
def test_duplicates_repeat_an_earlier_record_exactly(demo: DemoManifest, source: str, tmp_path: Path) -> None:
    rows = read_source(demo, source, tmp_path).rows
    issues = _issues(demo, source)
    duplicated = [row for row, codes in issues.items() if "duplicate" in codes]
    assert duplicated
    seen: dict[str, int] = {}
    for number, values in enumerate(rows, start=1):
        seen.setdefault(repr(sorted(values.items(), key=lambda item: item[0])), number)
    for row in duplicated:
        assert seen[repr(sorted(rows[row - 1].items(), key=lambda item: item[0]))] < row


@pytest.mark.parametrize("source", [s for s in SOURCE_FILES if s != "web_events"])
def test_phones_are_valid_exactly_where_no_flaw_was_planted(
    demo: DemoManifest, source: str, tmp_path: Path
) -> None:
    rows = read_source(demo, source, tmp_path).rows
    issues = _issues(demo, source)
    phone_columns = [
        f["column"]
        for f in _fields()[source]
        if f.get("kind") == "phone" or (f["role"] == "identifier" and f["name"] == "phone")
    ]
    checked = 0
    for number, row in enumerate(rows, start=1):
        codes = issues.get(number, [])
        for column in phone_columns:
            value = row.get(column)
            if value in (None, "") or "garbage" in codes:
                continue
            planted = {"invalid_phone", "invalid_referee_phone"} & set(codes)
            if column == "referee_phone":
                planted &= {"invalid_referee_phone"}
            elif source == "referrals":
                planted &= {"invalid_phone"}
            assert _valid_phone(value) != bool(planted), (number, column, value, codes)
            checked += 1
    assert checked > 0


def test_id_numbers_pass_stdnum_and_agree_with_the_person(demo: DemoManifest, tmp_path: Path) -> None:
    rows = read_source(demo, "crm", tmp_path).rows
    truth = _truth(demo, "crm")
    issues = _issues(demo, "crm")
    persons = {p["true_id"]: p for p in read_csv_rows(demo.out_dir / "truth" / "persons.csv")}
    good = bad = 0
    for number, row in enumerate(rows, start=1):
        value = row["身份证号"]
        if not value or "garbage" in issues.get(number, []):
            continue
        if "invalid_id_card" in issues.get(number, []):
            assert not ric.is_valid(value)
            bad += 1
            continue
        assert ric.is_valid(value), value
        person = persons[truth[number - 1]]
        assert ric.get_birth_date(value).isoformat() == person["birth_date"]
        assert ("男" if int(value[16]) % 2 else "女") == person["gender"]
        good += 1
    assert good > 100 and bad > 0


def test_identifiers_belong_to_one_person_except_shared_tablets(demo: DemoManifest, tmp_path: Path) -> None:
    owners: dict[tuple[str, str], set[str]] = defaultdict(set)
    fields = _fields()
    for source in SOURCE_FILES:
        rows = read_source(demo, source, tmp_path).rows
        truth = _truth(demo, source)
        issues = _issues(demo, source)
        identifiers = [(f["column"], f["name"]) for f in fields[source] if f["role"] == "identifier"]
        for number, row in enumerate(rows, start=1):
            if issues.get(number):
                continue  # flawed values (junk phones, broken e-mails) may repeat across persons
            for column, kind in identifiers:
                value = row.get(column)
                if value in (None, ""):
                    continue
                text = _phone_digits(value) if kind == "phone" else str(value).upper()
                owners[kind, text].add(truth[number - 1])
    shared = {r["device_id"] for r in read_csv_rows(demo.out_dir / "truth" / "shared_devices.csv")}
    many = {key for key, persons in owners.items() if len(persons) > 1}
    assert {value for kind, value in many if kind != "device_id"} == set()
    assert {value.lower() for kind, value in many if kind == "device_id"} <= shared
    assert len(owners) > 1000


def test_shared_tablets_are_used_by_several_logged_in_persons(demo: DemoManifest, tmp_path: Path) -> None:
    shared: dict[str, set[str]] = defaultdict(set)
    for row in read_csv_rows(demo.out_dir / "truth" / "shared_devices.csv"):
        shared[row["device_id"]].add(row["true_id"])
    assert shared
    assert all(len(users) >= 2 for users in shared.values())
    users_on: dict[str, set[str]] = defaultdict(set)
    for row in read_source(demo, "web_events", tmp_path).rows:
        if row["device_id"] in shared and row["user_id"]:
            users_on[row["device_id"]].add(row["user_id"])
    assert any(len(users) >= 2 for users in users_on.values())


def test_namesakes_share_name_and_city_but_are_different_people(demo: DemoManifest) -> None:
    persons = {p["true_id"]: p for p in read_csv_rows(demo.out_dir / "truth" / "persons.csv")}
    pairs = read_csv_rows(demo.out_dir / "truth" / "namesakes.csv")
    assert pairs
    common = {name for names in COMMON_NAMES.values() for name in names}
    assert any(pair["name"] in common for pair in pairs)
    for pair in pairs:
        a, b = persons[pair["true_id_a"]], persons[pair["true_id_b"]]
        assert a["true_id"] != b["true_id"]
        assert a["name"] == b["name"] == pair["name"] and a["city"] == b["city"] == pair["city"]
    by_name_city = Counter((p["name"], p["city"]) for p in persons.values())
    expected = sum(n * (n - 1) // 2 for n in by_name_city.values())
    assert len(pairs) == expected


def test_future_timestamps_lie_years_after_the_reference_date(demo: DemoManifest, tmp_path: Path) -> None:
    rows = read_source(demo, "web_events", tmp_path).rows
    issues = _issues(demo, "web_events")
    reference = dt.datetime(2026, 12, 1)  # naive UTC, as the reader returns it
    for number, row in enumerate(rows, start=1):
        if "future_timestamp" in issues.get(number, []):
            assert row["ts"] > reference.replace(year=2027)
        elif row["ts"] is not None:
            assert row["ts"] < reference


def test_churners_stop_buying_and_sour(demo: DemoManifest, tmp_path: Path) -> None:
    persons = {p["true_id"]: p for p in read_csv_rows(demo.out_dir / "truth" / "persons.csv")}
    churned = {
        i: dt.datetime.fromisoformat(p["churned_at"]) for i, p in persons.items() if p["churner"] == "true"
    }
    assert 0.05 <= len(churned) / len(persons) <= 0.25
    rows = read_source(demo, "pos_orders", tmp_path).rows
    issues = _issues(demo, "pos_orders")
    for number, (row, true_id) in enumerate(zip(rows, _truth(demo, "pos_orders"), strict=True), start=1):
        if true_id in churned and not issues.get(number):
            when = dt.datetime.strptime(row["交易时间"].replace("/", "-")[:16], "%Y-%m-%d %H:%M")
            assert when <= churned[true_id]
    assert max(churned.values()) <= dt.datetime(2026, 11, 30) - dt.timedelta(days=120)
    surveys = read_source(demo, "surveys", tmp_path).rows
    survey_issues = _issues(demo, "surveys")
    recent: dict[bool, list[int]] = {True: [], False: []}
    for number, (row, true_id) in enumerate(zip(surveys, _truth(demo, "surveys"), strict=True), start=1):
        if not survey_issues.get(number) and row["submitted_at"] >= "2026-08":
            recent[true_id in churned].append(int(row["nps"]))
    if recent[True] and recent[False]:
        assert sum(recent[True]) / len(recent[True]) < sum(recent[False]) / len(recent[False])


def test_ratings_and_scores_follow_satisfaction(demo: DemoManifest, tmp_path: Path) -> None:
    persons = {
        p["true_id"]: float(p["satisfaction"]) for p in read_csv_rows(demo.out_dir / "truth" / "persons.csv")
    }
    scores: dict[bool, list[int]] = {True: [], False: []}
    tickets = read_source(demo, "service_tickets", tmp_path).rows
    for row, true_id in zip(tickets, _truth(demo, "service_tickets"), strict=True):
        if true_id and row["评分"] is not None and abs(persons[true_id] - 0.5) > 0.2:
            scores[persons[true_id] > 0.5].append(int(row["评分"]))
    surveys = read_source(demo, "surveys", tmp_path).rows
    for row, true_id in zip(surveys, _truth(demo, "surveys"), strict=True):
        if true_id and row["nps"] and abs(persons[true_id] - 0.5) > 0.2:
            scores[persons[true_id] > 0.5].append(int(row["nps"]) // 2)
    assert len(scores[True]) > 10 and len(scores[False]) > 10
    assert sum(scores[True]) / len(scores[True]) > sum(scores[False]) / len(scores[False]) + 1
    texts = [row["内容"] for row in tickets if row["内容"]]
    assert len(set(texts)) > 0.6 * len(texts)
