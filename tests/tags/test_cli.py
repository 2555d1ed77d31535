"""The profile commands end to end: build, profile (card and JSON), tags list / show / changes."""

from __future__ import annotations

import json
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from huaxiang.cli.profile_commands import register
from huaxiang.tags import history
from huaxiang.workspace import Workspace
from tests.tags.conftest import OpenShop

runner = CliRunner()


def cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """huaxiang"""

    register(app)
    return app


def run(workspace: Workspace, *args: str, language: str = "en") -> Any:
    return runner.invoke(
        cli(), [*args, "-w", str(workspace.root)], env={"HUAXIANG_LANG": language, "COLUMNS": "160"}
    )


@pytest.fixture(scope="module")
def shop(open_shop: OpenShop) -> Workspace:
    workspace = open_shop("")
    for day in ("2024-02-29", "2024-03-31"):
        result = run(workspace, "build", "--as-of", day, "--json")
        assert result.exit_code == 0, result.output
    return workspace


def test_build_reports_in_json(shop: Workspace) -> None:
    result = run(shop, "build", "--as-of", "2024-03-31", "--json")
    report = json.loads(result.output)
    assert (report["persons"], report["changed"]) == (3, 0)
    assert report["traits"] >= 60 and report["tags"] >= 40


def test_profile_card_as_json_and_as_of(shop: Workspace) -> None:
    today = json.loads(run(shop, "profile", "C1", "--json").output)
    assert today["person_id"] == "person-1"
    lifecycle = {t["name"]: t for t in today["tags"]["lifecycle"]}["lifecycle_stage"]
    assert (lifecycle["value"], lifecycle["value_label"]) == ("active", "Active")
    assert [i["type"] for i in today["identities"]] == ["crm_id"]
    assert today["timeline"][0]["type"] == "identify"  # the app profile of 30 March is the latest event
    past = json.loads(run(shop, "profile", "C1", "--as-of", "2024-03-15", "--json").output)
    assert {t["name"]: t["value"] for t in past["traits"]}["orders_total"] == 2


def test_profile_card_in_chinese(shop: Workspace) -> None:
    result = run(shop, "profile", "C1", language="zh")
    assert result.exit_code == 0, result.output
    for text in ("客户画像", "生命周期阶段", "活跃", "人口属性", "最近事件"):
        assert text in result.output


def test_unknown_person_is_one_readable_error(shop: Workspace) -> None:
    result = run(shop, "profile", "C9")
    assert result.exit_code == 1
    assert "no person with this id or identifier" in result.output


def test_tags_list_show_and_changes(shop: Workspace) -> None:
    catalogue = json.loads(run(shop, "tags", "list", "--json").output)
    assert len(catalogue) >= 40
    rfm = {t["name"]: t for t in catalogue}["rfm_group"]
    assert rfm["values"]["important_value"]["zh"] == "重要价值客户"
    shown = json.loads(run(shop, "tags", "show", "lifecycle_stage", "--json").output)
    assert {v["value"]: v["persons"] for v in shown["values"]} == {"active": 1, "new": 1, "prospect": 1}
    first = history.list_builds(shop.warehouse)[0].build_id  # the end-of-February build
    changes = json.loads(run(shop, "tags", "changes", "--since", first, "--json").output)
    moved = {(c["tag"], c["value"]): (c["entered"], c["left"]) for c in changes["changes"]}
    assert moved[("lifecycle_stage", "new")] == (1, 0)
    for args in (
        ("tags", "list"),
        ("tags", "show", "rfm_group"),
        ("tags", "show", "total_spend"),
        ("tags", "changes"),
    ):
        assert run(shop, *args).exit_code == 0
    assert "did you mean" in run(shop, "tags", "show", "lifecycle_stag").output
