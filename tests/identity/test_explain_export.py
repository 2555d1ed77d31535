"""Explain (masked, never plaintext), export per source record, evaluation against a tiny labelled truth."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from rich.console import Console
from typer.testing import CliRunner

from huaxiang.cli.identity_commands import identity_app
from huaxiang.cli.identity_view import render_explanation
from huaxiang.errors import HuaxiangError, NotFoundError
from huaxiang.identity.explain import explain, mask_value
from huaxiang.identity.export import evaluate_resolution, export_persons
from tests.conftest import MakeWorkspace
from tests.identity.shop import Shop, csv_text, id_card, open_shop

PHONE = "13812345678"
EMAIL = "li.lei@example.cn"
CARD = id_card("110105", "19800101", 7)


@pytest.fixture
def shop(make_workspace: MakeWorkspace) -> Shop:
    shop = open_shop(make_workspace)
    shop.add("crm", [("C10077", "138 1234 5678", EMAIL, CARD, "李雷", "2025-01-01 10:00:00")])
    shop.add(
        "orders",
        [
            ("O1", "U1", PHONE, "", "2025-02-01 10:00:00"),
            ("O2", "U1", "", "", "2025-02-02 10:00:00"),
            ("O3", "U9", "", "", "2025-02-03 10:00:00"),
            ("O4", "U4", "", "", "2025-02-04 10:00:00"),
        ],
    )
    shop.resolve()
    return shop


def test_masking_shows_enough_to_recognise_and_is_idempotent() -> None:
    assert mask_value("phone", "+8613812345678") == "138****5678"
    assert mask_value("email", EMAIL) == "l***@example.cn"
    assert mask_value("id_card", CARD) == CARD[:6] + "*" * 8 + CARD[-4:]
    for id_type, value in (
        ("phone", "+8613812345678"),
        ("email", EMAIL),
        ("id_card", CARD),
        ("crm_id", "C10077"),
    ):
        once = mask_value(id_type, value)
        assert mask_value(id_type, once) == once


def test_explain_shows_masked_identifiers_and_no_plaintext(shop: Shop) -> None:
    [explanation] = explain(shop.workspace, "138 1234 5678")
    assert explanation.person_id == shop.person("orders", "O1")
    assert {i.masked for i in explanation.identifiers} >= {"138****5678", "l***@example.cn"}
    assert {r.source for r in explanation.records} == {"crm", "orders"} and explanation.events == 3
    assert any(link.kind == "identifier" for link in explanation.links)
    console = Console(record=True, width=200)
    console.print(render_explanation(explanation, "en"))
    texts = [json.dumps(explanation.to_dict(), ensure_ascii=False), console.export_text()]
    for text in texts:
        assert "138****5678" in text
        for secret in (PHONE, EMAIL, CARD, "C10077", "li.lei"):
            assert secret not in text


def test_explain_by_person_id_and_by_typed_identifier(shop: Shop) -> None:
    person = shop.person("orders", "O4")
    [by_id] = explain(shop.workspace, person)
    [by_value] = explain(shop.workspace, "user_id:U4")
    assert by_id.person_id == by_value.person_id == person
    with pytest.raises(NotFoundError):
        explain(shop.workspace, "13999999999")


def test_export_writes_one_row_per_source_record(shop: Shop, tmp_path: Path) -> None:
    for name in ("persons.csv", "persons.parquet"):
        result = export_persons(shop.workspace, tmp_path / name)
        reader = "read_csv" if name.endswith(".csv") else "read_parquet"
        rows = duckdb.sql(
            f"SELECT source, record_key, person_id FROM {reader}('{tmp_path / name}')"
        ).fetchall()
        assert result.records == len(rows) == 5 and result.persons == 3
        assert {(s, k): p for s, k, p in rows} == shop.persons()
    with pytest.raises(HuaxiangError):
        export_persons(shop.workspace, tmp_path / "persons.xlsx")


def test_evaluate_against_a_tiny_truth(shop: Shop, tmp_path: Path) -> None:
    # The shop cannot know that U9's order is Li Lei's too: four records of one person, one unlinked.
    truth = tmp_path / "truth.csv"
    rows = [
        ("crm", "C10077|2025-01-01 10:00:00", "T1"),
        ("orders", "O1", "T1"),
        ("orders", "O2", "T1"),
        ("orders", "O3", "T1"),
        ("orders", "O4", "T2"),
        ("orders", "O99", "T3"),  # quarantined or never sent: not in the event log
    ]
    truth.write_text(csv_text(("source", "record_key", "true_id"), rows), encoding="utf-8")
    evaluation = evaluate_resolution(shop.workspace, truth)
    m = evaluation.metrics
    assert (evaluation.missing, m.records) == (1, 5)
    assert (m.true_pairs, m.predicted_pairs, m.correct_pairs) == (6, 3, 3)
    assert m.precision == 1.0 and m.recall == pytest.approx(0.5)


def test_the_commands(shop: Shop, tmp_path: Path) -> None:
    runner = CliRunner()
    ws = ["--workspace", str(shop.root)]
    resolved = runner.invoke(identity_app, ["resolve", *ws, "--json"])
    assert resolved.exit_code == 0, resolved.output
    assert json.loads(resolved.output)["mode"] == "incremental"
    out = tmp_path / "persons.parquet"
    assert runner.invoke(identity_app, ["export", "--out", str(out), *ws]).exit_code == 0
    truth = tmp_path / "truth.csv"
    duckdb.sql(f"COPY (SELECT source, record_key, person_id AS true_id FROM '{out}') TO '{truth}' (HEADER)")
    evaluated = runner.invoke(identity_app, ["evaluate", "--truth", str(truth), *ws, "--json"])
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.output)["f1"] == 1.0
    shown = runner.invoke(identity_app, ["explain", "user_id:U1", *ws])
    assert shown.exit_code == 0 and "138****5678" in shown.output and PHONE not in shown.output
    linked = runner.invoke(identity_app, ["link", "user_id:U1", "user_id:U9", *ws, "--note", "same card"])
    assert linked.exit_code == 0, linked.output
    assert shop.person("orders", "O3") == shop.person("orders", "O1")
    listed = runner.invoke(identity_app, ["overrides", *ws, "--json"])
    assert json.loads(listed.output)[0]["note"] == "same card"
    missing = runner.invoke(identity_app, ["explain", "nobody@example.cn", *ws])
    assert missing.exit_code == 1 and "error" in missing.output
