"""The probabilistic step inside a resolve: members who share no identifier are merged by name, birth date
and city; namesakes are not; the per-person rules and a steward's cannot-link still hold."""

from __future__ import annotations

import json
import random

from huaxiang.identity.overrides import record_override
from huaxiang.identity.resolve import resolve_identities
from huaxiang.ingest import ingest_source
from tests.conftest import MakeWorkspace
from tests.identity.shop import csv_text

SOURCES = """\
sources:
  - name: members
    format: csv
    path: data/members*.csv
    key: [member_id]
    event_type: identify
    timestamp: updated
    fields:
      - {column: member_id, role: identifier, name: user_id}
      - {column: card, role: identifier, name: crm_id}
      - {column: name, role: attribute, name: full_name, kind: name}
      - {column: birth_date, role: attribute, name: birth_date, kind: date}
      - {column: gender, role: attribute, name: gender, kind: gender}
      - {column: city, role: attribute, name: city}
identity:
  match:
    fields: {full_name: full_name, birth_date: birth_date, gender: gender, city: city}
    threshold: 0.95
"""
HEADER = ("member_id", "card", "name", "birth_date", "gender", "city", "updated")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "涛",
    "明",
    "超",
    "秀英",
    "华",
    "平",
    "刚",
]
CITIES = ["北京市", "上海市", "广州市", "深圳市", "杭州市", "成都市", "武汉市", "南京市"]


def members() -> tuple[list[tuple[str, ...]], dict[str, str]]:
    """80 members, ten of whom opened a second account; returns the rows and member → true person."""
    rng = random.Random(11)
    rows: list[tuple[str, ...]] = []
    truth: dict[str, str] = {}
    for i in range(80):
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        birth = f"19{rng.randint(60, 99)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        gender = rng.choice("MF")
        city = rng.choice(CITIES)
        rows.append((f"M{i:03d}", "", name, birth, gender, city, "2025-01-01 10:00:00"))
        truth[f"M{i:03d}"] = f"T{i}"
        if i < 10:
            rows.append((f"M{i + 100:03d}", "", name, birth, gender, city, "2025-06-01 10:00:00"))
            truth[f"M{i + 100:03d}"] = f"T{i}"
    return rows, truth


def test_members_sharing_no_identifier_are_matched_and_rules_still_hold(
    make_workspace: MakeWorkspace,
) -> None:
    rows, truth = members()
    namesake = ("M900", "", rows[0][2], "1955-05-05", rows[0][4], rows[0][5], "2025-01-01 10:00:00")
    carded = [
        ("M901", "CARD-1", "欧阳修远", "1970-07-07", "M", "南京市", "2025-01-01 10:00:00"),
        ("M902", "CARD-2", "欧阳修远", "1970-07-07", "M", "南京市", "2025-01-01 10:00:00"),
    ]
    workspace = make_workspace(SOURCES)
    (workspace.root / "data").mkdir()
    (workspace.root / "data" / "members1.csv").write_text(csv_text(HEADER, [*rows, namesake, *carded]))
    ingest_source(workspace, "members")
    report = resolve_identities(workspace)
    assert report.match.pairs >= 1 and report.match.skipped is None
    person = dict(
        workspace.warehouse.rows(
            "SELECT e.record_key, p.person_id FROM events e JOIN event_persons p USING (event_id)"
        )
    )
    found = sum(person[f"M{i:03d}"] == person[f"M{i + 100:03d}"] for i in range(10))
    assert found >= 9
    wrong = [
        (a, b) for a in truth for b in truth if a < b and person[a] == person[b] and truth[a] != truth[b]
    ]
    assert wrong == []
    assert person["M900"] != person["M000"]  # same name and city, another birth date
    assert person["M901"] != person["M902"]  # one CRM card per person: the match cannot join them
    cuts = [
        json.loads(r[0])
        for r in workspace.warehouse.rows("SELECT evidence FROM identity_log WHERE action = 'conflict'")
    ]
    assert any(c["link"]["kind"] == "match" and c["rule"] == "max_per_person of crm_id" for c in cuts)

    record_override(workspace, "cannot_link", "user_id:M000", "user_id:M100", author="steward")
    resolve_identities(workspace)
    resolve_identities(workspace, full=True)
    person = dict(
        workspace.warehouse.rows(
            "SELECT e.record_key, p.person_id FROM events e JOIN event_persons p USING (event_id)"
        )
    )
    assert person["M000"] != person["M100"]
