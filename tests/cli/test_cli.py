"""The command line end to end: init, ingest, quality, quarantine, text — through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from huaxiang.cli import app

runner = CliRunner()

SOURCES = """\
sources:
  - name: crm
    format: csv
    path: data/crm.csv
    key: [id]
    event_type: identify
    timestamp: updated
    fields:
      - {column: id, role: identifier, name: crm_id, required: true}
      - {column: phone, role: identifier, on_invalid: quarantine}
"""


def test_init_ingest_quality_and_quarantine(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    config = root / "huaxiang.yaml"
    config.write_text(config.read_text().replace("sources: []\n", SOURCES))
    (root / "data").mkdir()
    (root / "data/crm.csv").write_text(
        "id,phone,updated\nA,13812345678,2024-03-01 10:00:00\nB,12345,2024-03-01 11:00:00\n"
    )
    ingested = runner.invoke(app, ["ingest", "-w", str(root), "--json"])
    assert ingested.exit_code == 0, ingested.output
    [result] = json.loads(ingested.stdout)
    assert (result["records_read"], result["inserted"], result["quarantined"]) == (2, 1, 1)
    quality = runner.invoke(app, ["quality", "-w", str(root), "--json"])
    assert quality.exit_code == 0
    assert json.loads(quality.stdout)["sources"][0]["source"] == "crm"
    listed = runner.invoke(app, ["quarantine", "list", "-w", str(root), "--json"])
    [record] = json.loads(listed.stdout)["records"]
    assert (record["file"], record["line"]) == ("data/crm.csv", 3)
    shown = runner.invoke(
        app, ["quarantine", "show", record["quarantine_id"][:10], "-w", str(root), "--json"]
    )
    assert shown.exit_code == 0
    assert "12345" not in json.loads(shown.stdout)["raw"]["phone"]  # masked for the reader's role


def test_errors_are_one_readable_line(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    runner.invoke(app, ["init", str(root)])
    config = root / "huaxiang.yaml"
    config.write_text(
        config.read_text().replace("sources: []\n", SOURCES.replace("format: csv", "format: cvs"))
    )
    result = runner.invoke(app, ["ingest", "-w", str(root)])
    assert result.exit_code == 1
    assert "huaxiang.yaml:31 sources[0].format: Input should be" in result.output
    assert "Traceback" not in result.output


def test_text_sentiment_of_a_file(tmp_path: Path) -> None:
    file = tmp_path / "reviews.csv"
    file.write_text('id,text\n1,"Great product, works perfectly"\n2,"Terrible quality, broke after a day"\n')
    result = runner.invoke(app, ["text", "sentiment", str(file), "--column", "text", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["label"] for r in rows] == ["positive", "negative"]
