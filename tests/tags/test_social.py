"""Referrals received and influence in the referral graph: the graph core, and a real build over real ingest.

A hand-made chain A→B→C, A→D (D→E only in April) is ingested from CSV files, resolved by identity
resolution and built; expected values are worked out by hand. The referee's phone is a related identifier:
the tests also check that it is stored only as a token, and that it never merges referrer and referee.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from huaxiang.config import FieldSpec
from huaxiang.identity import resolve_identities
from huaxiang.ingest.pipeline import ingest_all
from huaxiang.privacy.crypto import token
from huaxiang.tags import history
from huaxiang.tags.build import build_profiles, parse_as_of
from huaxiang.tags.library import load_catalogue
from huaxiang.tags.profiles import find_person
from huaxiang.traits.referral_graph import measure_referrals, pagerank, tree_reach
from huaxiang.workspace import Workspace

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2024, 6, 1)
PHONES = {
    "A": "13800000001",
    "B": "13800000002",
    "C": "13800000003",
    "D": "13800000004",
    "E": "13800000005",
}
UNKNOWN = "13900000009"  # referred, but never a customer of this shop

SOURCES = """\
sources:
  - name: crm
    format: csv
    path: data/crm.csv
    key: [客户编号]
    event_type: identify
    timestamp: 注册时间
    fields:
      - {column: 客户编号, role: identifier, name: crm_id, required: true}
      - {column: 手机号, role: identifier, name: phone}
  - name: referrals
    format: csv
    path: data/referrals.csv
    key: [referral_id]
    event_type: referral
    timestamp: referred_at
    fields:
      - {column: referrer_phone, role: identifier, name: phone, required: true}
      - {column: referee_phone, role: related_identifier, id_type: phone, name: referee_phone}
identity:
  match: {enabled: false}
"""
CRM = "客户编号,手机号,注册时间\n" + "".join(
    f"K{n},{phone},2024-01-0{n} 09:00:00\n" for n, phone in enumerate(PHONES.values(), start=1)
)
REFERRALS = (
    "referral_id,referrer_phone,referee_phone,referred_at\n"
    f"R1,{PHONES['A']},{PHONES['B']},2024-02-01 10:00:00\n"
    f"R2,{PHONES['B']},{PHONES['C']},2024-02-10 10:00:00\n"
    f"R3,{PHONES['A']},{PHONES['D']},2024-02-15 10:00:00\n"
    f"R4,{PHONES['A']},138-0000-0002,2024-03-01 10:00:00\n"  # A refers B again, written another way
    f"R5,{PHONES['A']},{UNKNOWN},2024-03-05 10:00:00\n"
    f"R6,{PHONES['D']},{PHONES['E']},2024-04-10 10:00:00\n"  # after the end of March
)
COLUMNS = ("referrals_received", "referred_by", "referral_influence", "referral_reach", "referred_contacts")


@pytest.fixture(scope="module")
def referral_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("referrals") / "ws"
    (root / "data").mkdir(parents=True)
    (root / "data" / "crm.csv").write_text(CRM, encoding="utf-8")
    (root / "data" / "referrals.csv").write_text(REFERRALS, encoding="utf-8")
    workspace = Workspace.init(root, sources_yaml=SOURCES)
    results = ingest_all(workspace)
    assert [r.quarantined for r in results] == [0, 0]
    resolve_identities(workspace)
    yield workspace
    workspace.close()


def person(workspace: Workspace, name: str) -> str:
    return find_person(workspace, PHONES[name])


def values_at(workspace: Workspace, day: str) -> dict[str, dict[str, Any]]:
    """Build as of the end of ``day`` (Shanghai) and read every person's graph traits from that version."""
    as_of = parse_as_of(day, SHANGHAI)
    build_profiles(workspace, as_of=as_of, now=NOW)
    found: dict[str, dict[str, Any]] = {}
    for name in PHONES:
        version = history.version_at(workspace.warehouse, person(workspace, name), as_of)
        assert version is not None
        found[name] = {c: version[c] for c in COLUMNS} | {
            t: version[t] for t in ("influence_level", "influence_rank", "is_referred")
        }
    return found


def named(workspace: Workspace) -> dict[str, str]:
    return {person(workspace, n): n for n in PHONES}


# ── the graph core ──────────────────────────────────────────────────────────────────────────────────


def test_chain_received_first_referrer_and_reach() -> None:
    day = [datetime(2024, 2, d) for d in (1, 2, 3)]
    result = measure_referrals(["A", "B", "A"], ["B", "C", "D"], day)
    by = dict(zip(result.person_id, range(len(result.person_id)), strict=True))
    assert [result.referrals_received[by[p]] for p in "ABCD"] == [0, 1, 1, 1]
    assert [result.referred_by[by[p]] for p in "ABCD"] == [None, "A", "B", "A"]
    assert [result.referral_reach[by[p]] for p in "ABCD"] == [3, 1, 0, 0]
    influence = [result.referral_influence[by[p]] for p in "ABCD"]
    assert influence[0] > influence[1] > influence[2]
    assert influence[2] == pytest.approx(influence[3])
    assert float(np.mean(influence)) == pytest.approx(1.0)


def test_pagerank_is_the_stationary_distribution_of_the_google_matrix() -> None:
    # An independent computation: solve (I - d·Mᵀ) r = (1-d)/n with dangling columns spread evenly.
    source = np.array([1, 2, 3, 4, 4, 0])
    target = np.array([0, 1, 0, 0, 2, 5])
    n, d = 6, 0.85
    m = np.zeros((n, n))
    for s, t in zip(source, target, strict=True):
        m[s, t] = 1.0
    out = m.sum(axis=1)
    transition = np.where(out[:, None] > 0, m / np.maximum(out, 1)[:, None], 1.0 / n)
    expected = np.linalg.solve(np.eye(n) - d * transition.T, np.full(n, (1 - d) / n))
    assert pagerank(source, target, n) == pytest.approx(expected / expected.sum(), abs=1e-9)


def test_the_first_referrer_wins_and_a_pair_counts_once() -> None:
    times = [datetime(2024, 3, 1), datetime(2024, 2, 1), datetime(2024, 4, 1)]
    result = measure_referrals(["X", "Y", "X"], ["Z", "Z", "Z"], times)
    by = dict(zip(result.person_id, range(3), strict=True))
    assert result.referred_by[by["Z"]] == "Y"  # the earlier referral, not the first row
    assert result.referrals_received[by["Z"]] == 2  # X twice and Y: two different people
    assert (result.referral_reach[by["Y"]], result.referral_reach[by["X"]]) == (1, 0)


def test_reach_with_a_cycle_in_bad_data() -> None:
    # 0 ← 1 ← 0 is a cycle (each first referred by the other); 2 hangs under 1, 3 under 2.
    parent = np.array([1, 0, 1, 2])
    assert tree_reach(parent).tolist() == [3, 3, 1, 0]


def test_an_empty_graph() -> None:
    result = measure_referrals([], [], [])
    assert result.person_id == [] and result.to_arrow().num_rows == 0


# ── a real build ────────────────────────────────────────────────────────────────────────────────────


def test_referrer_and_referee_are_never_merged(referral_shop: Workspace) -> None:
    persons = {person(referral_shop, n) for n in PHONES}
    assert len(persons) == len(PHONES)
    total = referral_shop.warehouse.scalar("SELECT count(DISTINCT person_id) FROM event_persons")
    assert total == len(PHONES)  # the unknown referee is not a person either


def test_the_referee_is_a_token_equal_to_their_own_identifier_token(referral_shop: Workspace) -> None:
    stored = referral_shop.warehouse.scalar(
        "SELECT properties->>'referee_phone' FROM events WHERE type = 'referral' ORDER BY ts LIMIT 1"
    )
    expected = token(referral_shop.keyring, "phone", "+86" + PHONES["B"])
    assert stored == "tok:" + expected
    carriers = referral_shop.warehouse.rows(
        "SELECT e.type, e.properties->>'referee_phone' FROM event_identifiers i JOIN events e USING (event_id) "
        "WHERE i.id_type = 'phone' AND i.token = ? ORDER BY e.type",
        [expected],
    )
    # B's own records (the CRM row, and R2 where B refers C); never R1 or R4, which only name B.
    assert [(kind, referee != stored) for kind, referee in carriers] == [
        ("identify", True),
        ("referral", True),
    ]


def test_graph_traits_as_of_the_end_of_march(referral_shop: Workspace) -> None:
    values = values_at(referral_shop, "2024-03-31")
    ids = named(referral_shop)
    assert {n: v["referrals_received"] for n, v in values.items()} == {"A": 0, "B": 1, "C": 1, "D": 1, "E": 0}
    assert {n: ids.get(v["referred_by"]) for n, v in values.items()} == {
        "A": None,
        "B": "A",
        "C": "B",
        "D": "A",
        "E": None,
    }
    assert {n: v["referral_reach"] for n, v in values.items()} == {"A": 3, "B": 1, "C": 0, "D": 0, "E": 0}
    influence = {n: v["referral_influence"] for n, v in values.items()}
    assert influence["A"] > influence["B"] > influence["C"] == pytest.approx(influence["D"])
    assert influence["E"] is None  # D→E is in April: E is outside the graph yet
    assert values["A"]["referred_contacts"] == 3  # B (twice, as the same token), D and the unknown number
    assert values["A"]["influence_level"] == "kol" and values["A"]["influence_rank"] == 100
    assert values["C"]["influence_level"] == "low" and values["E"]["influence_level"] == "none"
    assert (values["B"]["is_referred"], values["A"]["is_referred"]) == (True, False)


def test_a_referral_after_the_as_of_time_counts_only_in_later_builds(referral_shop: Workspace) -> None:
    march = values_at(referral_shop, "2024-03-31")
    april = values_at(referral_shop, "2024-04-30")
    assert (march["E"]["referrals_received"], april["E"]["referrals_received"]) == (0, 1)
    assert named(referral_shop)[april["E"]["referred_by"]] == "D"
    assert (march["A"]["referral_reach"], april["A"]["referral_reach"]) == (3, 4)
    assert (march["D"]["referral_reach"], april["D"]["referral_reach"]) == (0, 1)


def test_the_referees_phone_is_never_stored_in_clear(referral_shop: Workspace) -> None:
    values_at(referral_shop, "2024-04-30")
    referral_shop.close()  # checkpoint the write-ahead log, then read the file's raw bytes
    path: Path = referral_shop.warehouse_path
    wal = path.with_suffix(".duckdb.wal")
    raw = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert len(raw) > 0
    for phone in [*PHONES.values(), UNKNOWN]:
        for form in (phone, "+86" + phone, phone[:3] + "-" + phone[3:7] + "-" + phone[7:]):
            assert form.encode() not in raw, form


def test_the_graph_traits_are_in_the_catalogue_for_rules(referral_shop: Workspace) -> None:
    names = load_catalogue(referral_shop.config).names
    assert names["referral_influence"] == "number" and names["referred_by"] == "string"


def test_a_related_identifier_needs_its_identifier_type() -> None:
    with pytest.raises(ValueError, match="id_type"):
        FieldSpec(column="referee_phone", role="related_identifier")
    with pytest.raises(ValueError, match="id_type"):
        FieldSpec(column="phone", role="property", id_type="phone")
    spec = FieldSpec(column="referee_phone", role="related_identifier", id_type="phone")
    assert (spec.value_kind, spec.classification) == ("phone", "personal")
