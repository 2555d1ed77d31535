"""The demo's ``sources:`` mapping parses, validates, and names real files and columns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from huaxiang.config import Config
from huaxiang.demo.generator import SOURCE_FILES, DemoManifest
from tests.demo.conftest import read_source
from tests.demo.test_generator import WORKSPACE_YAML

EVENT_TYPES = {
    "identify",
    "purchase",
    "page_view",
    "search",
    "add_to_cart",
    "login",
    "consent_change",
    "review",
    "complaint",
    "service_ticket",
    "survey_response",
    "referral",
}


def _sources() -> list[dict[str, Any]]:
    loaded = yaml.safe_load(WORKSPACE_YAML.read_text(encoding="utf-8"))
    assert set(loaded) == {"sources"}
    sources: list[dict[str, Any]] = loaded["sources"]
    return sources


def test_yaml_maps_every_demo_file() -> None:
    sources = _sources()
    assert [s["name"] for s in sources] == list(SOURCE_FILES)
    for source in sources:
        assert source["path"] == f"data/{SOURCE_FILES[source['name']]}"


def test_yaml_is_a_valid_sources_section() -> None:
    config = Config.model_validate({"sources": _sources()})
    assert {s.name for s in config.sources} == set(SOURCE_FILES)
    types = {s.event_type for s in config.sources} | {
        t for s in config.sources for t in s.event_type_map.values()
    }
    assert types - {None} <= EVENT_TYPES


@pytest.mark.parametrize("source", _sources(), ids=lambda s: s["name"])
def test_every_mapped_column_exists_in_the_file(
    demo: DemoManifest, source: dict[str, Any], tmp_path: Path
) -> None:
    columns = set(read_source(demo, source["name"], tmp_path).columns)
    mapped = {f["column"] for f in source["fields"]} | set(source["key"]) | {source["timestamp"]}
    if source.get("event_type_column"):
        mapped.add(source["event_type_column"])
    assert mapped <= columns


@pytest.mark.parametrize(
    "source", [s for s in _sources() if s.get("event_type_column")], ids=lambda s: s["name"]
)
def test_event_type_columns_hold_known_types(
    demo: DemoManifest, source: dict[str, Any], tmp_path: Path
) -> None:
    values = {row[source["event_type_column"]] for row in read_source(demo, source["name"], tmp_path).rows}
    mapping = source.get("event_type_map") or {}
    known = {mapping.get(v, v) for v in values} & EVENT_TYPES
    assert len(known) >= 3
    assert {mapping.get(v, v) for v in values} - EVENT_TYPES <= {None, "__heartbeat__"}
