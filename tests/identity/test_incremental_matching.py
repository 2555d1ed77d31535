"""Incremental runs re-use the trained matching model and score only the new records' pairs, with the result a
full run would give under the same model; the model is trained again when asked, or after enough growth."""

from __future__ import annotations

import json
import random

from typer.testing import CliRunner

from huaxiang.cli.identity_commands import identity_app
from huaxiang.identity.resolve import ResolveReport, resolve_identities
from huaxiang.identity.schema import ensure_identity_schema
from huaxiang.ingest import ingest_source
from huaxiang.workspace import Workspace
from tests.conftest import MakeWorkspace
from tests.identity import test_resolve_matching as matching
from tests.identity.shop import csv_text

# The members source of the matching tests, keyed by member and update: one member may be updated on day B.
SOURCES = matching.SOURCES.replace("key: [member_id]", "key: [member_id, updated]")
HEADER, SURNAMES, GIVEN, CITIES = matching.HEADER, matching.SURNAMES, matching.GIVEN, matching.CITIES
Row = tuple[str, ...]


def members(persons: int, seconds: int) -> tuple[list[Row], list[Row]]:
    """First accounts of ``persons`` people and second accounts (same attributes, no shared id) of the first
    ``seconds`` of them; returned as (first accounts, second accounts) in person order. Members 40–49 have no
    card."""
    rng = random.Random(5)
    first: list[Row] = []
    second: list[Row] = []
    for i in range(persons):
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", *GIVEN])
        birth = f"19{rng.randint(50, 99)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        gender, city = rng.choice("MF"), rng.choice(CITIES)
        card = "" if 40 <= i < 50 else f"C{i:03d}"  # a few members without a card
        first.append((f"M{i:03d}", card, name, birth, gender, city, "2025-01-01 10:00:00"))
        if i < seconds:
            second.append((f"S{i:03d}", "", name, birth, gender, city, "2025-03-01 10:00:00"))
    return first, second


def split_data() -> tuple[list[Row], list[Row]]:
    """Day A: 150 people, second accounts of 20. Day B: 12 new people, second accounts of 12 people of day A,
    and M040's record updated with M050's card, which joins two persons of day A (a merge)."""
    first, second = members(162, 32)
    day_a = first[:150] + second[:20]
    bridge = ("M040", "C050", *first[40][2:6], "2025-04-01 10:00:00")
    day_b = first[150:] + second[20:] + [bridge]
    return day_a, day_b


def key(row: Row) -> str:
    """A row's record key: its member id and update time."""
    return f"{row[0]}|{row[-1]}"


def persons_by_record(workspace: Workspace) -> dict[str, str]:
    return dict(
        workspace.warehouse.rows(
            "SELECT e.record_key, p.person_id FROM events e JOIN event_persons p USING (event_id)"
        )
    )


def partition(person: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for record, person_id in person.items():
        groups.setdefault(person_id, set()).add(record)
    return {frozenset(g) for g in groups.values()}


def pairs_by_record(workspace: Workspace) -> dict[frozenset[str], float]:
    rows = workspace.warehouse.rows(
        """
        SELECT l.record_key, r.record_key, m.match_probability FROM identity_matches m
        JOIN events l ON l.event_id = m.event_id_l JOIN events r ON r.event_id = m.event_id_r
        """
    )
    return {frozenset((a, b)): float(p) for a, b, p in rows}


def write_and_ingest(workspace: Workspace, name: str, rows: list[Row]) -> None:
    (workspace.root / "data").mkdir(exist_ok=True)
    (workspace.root / "data" / name).write_text(csv_text(HEADER, rows))
    ingest_source(workspace, "members")


def models(workspace: Workspace) -> int:
    return int(workspace.warehouse.scalar("SELECT count(*) FROM identity_models"))


def test_incremental_run_with_the_stored_model_equals_a_full_run_with_that_model(
    make_workspace: MakeWorkspace,
) -> None:
    day_a, day_b = split_data()
    daily = make_workspace(SOURCES, name="daily")
    write_and_ingest(daily, "members1.csv", day_a)
    first = resolve_identities(daily)
    assert (first.mode, first.match.model, first.match.skipped) == ("full", "trained", None)
    assert first.match.pairs >= 15  # most second accounts found their first
    before = persons_by_record(daily)

    write_and_ingest(daily, "members2.csv", day_b)
    second = resolve_identities(daily, retrain_growth=1.0)
    assert (second.mode, second.match.model) == ("incremental", "reused")
    assert second.match.model_records == first.match.records
    assert models(daily) == 1  # nothing trained
    assert second.scope_events < 0.5 * (len(day_a) + len(day_b))  # only what the new records reach
    assert second.merges == 1  # M040's update carries M050's card
    after = persons_by_record(daily)
    assert after[key(day_a[40])] == after[key(day_a[50])]
    found = sum(after[key(day_b[i - 8])] == after[key(day_a[i])] for i in range(20, 32))
    assert found >= 10  # day B's second accounts joined their day-A persons through the stored model
    aliases = dict(daily.warehouse.rows("SELECT alias_id, person_id FROM person_aliases"))
    for record, person_id in before.items():  # ids stable: kept, or absorbed by a logged merge
        assert after[record] == aliases.get(person_id, person_id)
    assert daily.warehouse.scalar("SELECT count(*) FROM identity_log WHERE action = 'merge'") == 1

    # The same data resolved at once, by a full run with the model trained on day A.
    whole = make_workspace(SOURCES, name="whole")
    (whole.root / "data").mkdir()
    (whole.root / "data" / "members1.csv").write_text(csv_text(HEADER, day_a))
    write_and_ingest(whole, "members2.csv", day_b)
    ensure_identity_schema(whole.warehouse)
    stored = daily.warehouse.rows("SELECT * FROM identity_models")
    whole.warehouse.con.executemany("INSERT INTO identity_models VALUES (?, ?, ?, ?, ?, ?)", stored)
    at_once = resolve_identities(whole, retrain_growth=1.0)
    assert (at_once.mode, at_once.match.model) == ("full", "reused")

    assert partition(persons_by_record(whole)) == partition(after)
    incremental_pairs, full_pairs = pairs_by_record(daily), pairs_by_record(whole)
    assert set(incremental_pairs) == set(full_pairs)
    day_b_keys = {key(row) for row in day_b}
    for pair, probability in full_pairs.items():
        if pair & day_b_keys:  # pairs with a new record: the same score
            assert abs(incremental_pairs[pair] - probability) < 1e-9


def test_the_model_is_trained_again_when_asked_or_after_the_records_grew(
    make_workspace: MakeWorkspace,
) -> None:
    day_a, day_b = split_data()
    workspace = make_workspace(SOURCES)
    write_and_ingest(workspace, "members1.csv", day_a)
    resolve_identities(workspace)
    write_and_ingest(workspace, "members2.csv", day_b)

    grown: ResolveReport = resolve_identities(workspace, retrain_growth=0.1)  # 25 new records on 170: 15%
    assert (grown.mode, grown.match.model) == ("full", "trained")
    assert grown.match.retrain_reason is not None and "grew 15%" in grown.match.retrain_reason.en
    assert models(workspace) == 2

    quiet = resolve_identities(workspace)  # nothing new: nothing to match, the model stays
    assert (quiet.mode, quiet.match.model) == ("incremental", None)
    asked = resolve_identities(workspace, retrain=True)  # asked: trained and everything re-resolved
    assert (asked.mode, asked.match.model, asked.scope_events) == ("full", "trained", len(day_a) + len(day_b))
    retrained = persons_by_record(workspace)
    again = resolve_identities(workspace, full=True)  # a full run alone reuses the model: same persons, ids
    assert (again.mode, again.match.model) == ("full", "reused")
    assert models(workspace) == 3
    assert persons_by_record(workspace) == retrained


def test_cli_retrains_on_request_and_says_whether_the_model_was_reused(make_workspace: MakeWorkspace) -> None:
    day_a, _ = split_data()
    workspace = make_workspace(SOURCES)
    write_and_ingest(workspace, "members1.csv", day_a)
    ws = ["--workspace", str(workspace.root)]
    workspace.close()
    runner = CliRunner()
    first = runner.invoke(identity_app, ["resolve", *ws, "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["match"]["model"] == "trained"
    reused = runner.invoke(identity_app, ["resolve", *ws, "--full"], env={"HUAXIANG_LANG": "en"})
    assert reused.exit_code == 0, reused.output
    assert "matching model: reused (trained on 170 identify records)" in reused.output
    asked = runner.invoke(identity_app, ["resolve", *ws, "--retrain", "--json"])
    report = json.loads(asked.output)
    assert (report["mode"], report["match"]["model"]) == ("full", "trained")
    assert report["match"]["retrain_reason"] == "retraining was asked for"
    refused = runner.invoke(identity_app, ["resolve", *ws, "--retrain-growth", "-1"])
    assert refused.exit_code != 0
