"""The demo files: reproducible to the byte, readable as declared, and fully covered by the truth."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from huaxiang.demo.generator import SOURCE_FILES, DemoManifest, generate_demo_data
from huaxiang.errors import HuaxiangError
from tests.demo.conftest import CUSTOMERS, SEED, key_text, read_csv_rows, read_source

WORKSPACE_YAML = Path(__file__).resolve().parents[2] / "src" / "huaxiang" / "demo" / "workspace.yaml"


def _all_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _source_keys() -> dict[str, list[str]]:
    config = yaml.safe_load(WORKSPACE_YAML.read_text(encoding="utf-8"))
    return {source["name"]: source["key"] for source in config["sources"]}


def test_same_seed_gives_byte_identical_files_in_another_process(demo: DemoManifest, tmp_path: Path) -> None:
    # A fresh interpreter with another hash seed: set iteration order or clocks would show up here.
    script = (
        "import sys; from pathlib import Path; from huaxiang.demo.generator import generate_demo_data; "
        "generate_demo_data(Path(sys.argv[1]), customers=int(sys.argv[2]), seed=int(sys.argv[3]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "again"), str(CUSTOMERS), str(SEED)],
        check=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    first, second = _all_files(demo.out_dir), _all_files(tmp_path / "again")
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []


def test_another_seed_gives_other_data(demo: DemoManifest, tmp_path: Path) -> None:
    other = generate_demo_data(tmp_path / "other", customers=CUSTOMERS, seed=SEED + 1)
    first, second = _all_files(demo.out_dir), _all_files(other.out_dir)
    assert first["crm_customers.csv"] != second["crm_customers.csv"]
    assert first["truth/persons.csv"] != second["truth/persons.csv"]


def test_manifest_names_every_source_and_its_files(demo: DemoManifest) -> None:
    assert set(demo.files) == set(SOURCE_FILES) == set(demo.records) == set(demo.bad_records)
    assert (demo.customers, demo.seed) == (CUSTOMERS, SEED)
    for source, paths in demo.files.items():
        assert paths and all(p.is_file() and p.parent.is_relative_to(demo.out_dir) for p in paths), source
    assert 2 <= len(demo.files["web_events"]) <= 4
    assert all(p.match("web_events/part-*.parquet") for p in demo.files["web_events"])


def test_progress_reports_each_step_in_order(tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    generate_demo_data(tmp_path, customers=20, seed=1, on_progress=lambda *step: seen.append(step))
    assert [done for _, done, _ in seen] == list(range(1, len(seen) + 1))
    assert {total for _, _, total in seen} == {len(seen)}
    assert [name for name, _, _ in seen] == ["people", "activity", *SOURCE_FILES, "truth"]


def test_too_few_customers_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HuaxiangError, match="at least 10"):
        generate_demo_data(tmp_path, customers=3)


def test_encodings_are_the_declared_ones(demo: DemoManifest) -> None:
    crm = demo.files["crm"][0].read_bytes()
    assert crm.startswith(b"\xef\xbb\xbf")
    pos = demo.files["pos_orders"][0].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        pos.decode("utf-8")
    assert "小票号" in pos.decode("gb18030")
    for source in ("surveys", "referrals"):
        assert not demo.files[source][0].read_bytes().startswith(b"\xef\xbb\xbf")
        demo.files[source][0].read_bytes().decode("utf-8")


@pytest.mark.parametrize("source", list(SOURCE_FILES))
def test_every_file_reads_back_with_the_manifest_count(
    demo: DemoManifest, source: str, tmp_path: Path
) -> None:
    rows = read_source(demo, source, tmp_path)
    assert len(rows.rows) == demo.records[source]
    assert set(_source_keys()[source]) <= set(rows.columns)


@pytest.mark.parametrize("source", list(SOURCE_FILES))
def test_truth_has_every_record_in_file_order(demo: DemoManifest, source: str, tmp_path: Path) -> None:
    key = _source_keys()[source]
    rows = read_source(demo, source, tmp_path).rows
    from_file = ["|".join(key_text(row.get(column)) for column in key) for row in rows]
    truth = [r for r in read_csv_rows(demo.out_dir / "truth" / "records.csv") if r["source"] == source]
    assert [r["record_key"] for r in truth] == from_file
    garbage = {
        int(r["row"])
        for r in read_csv_rows(demo.out_dir / "truth" / "issues.csv")
        if r["source"] == source and r["issue"] == "garbage"
    }
    persons = {r["true_id"] for r in read_csv_rows(demo.out_dir / "truth" / "persons.csv")}
    for row, record in enumerate(truth, start=1):
        assert (record["true_id"] == "") == (row in garbage), record
        assert record["true_id"] == "" or record["true_id"] in persons


def test_web_event_timestamps_are_utc_timestamps(demo: DemoManifest, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    for path in demo.files["web_events"]:
        assert str(pq.read_schema(path).field("ts").type) == "timestamp[us, tz=UTC]"


def test_crm_has_multiline_addresses_and_updated_rows(demo: DemoManifest, tmp_path: Path) -> None:
    rows = read_source(demo, "crm", tmp_path).rows
    assert any("\n" in (row["地址"] or "") for row in rows)
    versions: dict[str, dict[str, dict[str, object]]] = defaultdict(dict)
    for row in rows:
        if (row["客户编号"] or "").startswith("C"):
            versions[row["客户编号"]][row["更新时间"]] = row
    changed = [list(v.values()) for v in versions.values() if len(v) > 1]
    assert len(changed) >= 5
    for group in changed:
        assert len({(row["手机号"], row["地址"]) for row in group}) > 1


def test_regenerating_smaller_leaves_no_stale_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patched:  # as a big world would split its logs
        patched.setattr("huaxiang.demo.generator.part_count", lambda customers: 4)
        generate_demo_data(tmp_path, customers=20, seed=3)
    assert len(list((tmp_path / "web_events").glob("part-*.parquet"))) == 4
    manifest = generate_demo_data(tmp_path, customers=20, seed=3)
    assert len(manifest.files["web_events"]) == 2
    assert sorted((tmp_path / "web_events").glob("part-*.parquet")) == manifest.files["web_events"]
