"""The privacy commands end to end through Typer: who acts, what they see, what is logged."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from huaxiang.cli.privacy_commands import register
from tests.privacy.conftest import ZHANG_ID, Shop

runner = CliRunner()


def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def run(shop: Shop, *args: str, api_key: str | None = None) -> tuple[int, str]:
    shop.workspace.close()  # the command opens the workspace itself
    env = {"HUAXIANG_API_KEY": api_key} if api_key else {}
    result = runner.invoke(cli(), [*args, "--workspace", str(shop.workspace.root)], env=env)
    return result.exit_code, " ".join(result.output.split())  # Rich wraps long lines at 80 columns


def test_an_analyst_sees_masked_values_and_the_read_is_logged(shop: Shop) -> None:
    code, out = run(shop, "principal", "add", "ana", "--role", "analyst", "--json")
    assert code == 0, out
    key = json.loads(out)["api_key"]
    code, out = run(
        shop, "person", "show", "phone:138 1234 5678", "--purpose", "analytics", "--json", api_key=key
    )
    assert code == 0, out
    shown = {f["name"]: f["value"] for f in json.loads(out)["identifiers"]}
    assert shown["phone"] == "138****5678" and "id_card" not in shown
    assert "13812345678" not in out and ZHANG_ID not in out
    code, out = run(shop, "audit", "list", "--json", api_key=key)
    assert code == 1 and "may not read audit" in out  # analysts cannot read the audit log
    code, out = run(shop, "audit", "list", "--json")
    entries = json.loads(out)
    assert entries[0]["action"] == "read_person" and entries[0]["role"] == "analyst"


def test_verify_exits_non_zero_and_names_the_tampered_entry(shop: Shop) -> None:
    run(shop, "person", "show", "phone:13812345678", "--purpose", "customer_service")
    run(shop, "consent", "show", "phone:13812345678")
    code, out = run(shop, "audit", "verify")
    assert code == 0 and "2" in out
    shop.workspace.warehouse.con.execute("UPDATE audit_log SET purpose = 'nothing_to_see' WHERE seq = 1")
    code, out = run(shop, "audit", "verify")
    assert code == 1 and "entry 1" in out and "edited" in out


def test_erase_export_rotate_and_retention_commands(shop: Shop, tmp_path: Path) -> None:
    code, out = run(shop, "person", "export", "phone:13812345678", "--out", str(tmp_path / "copy"), "--json")
    assert code == 0, out
    assert (tmp_path / "copy" / "person.json").exists()
    code, out = run(shop, "person", "erase", "phone:13812345678", "--yes", "--request-id", "T-1", "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["verified"] and report["deleted"]["events"] == 8
    code, out = run(shop, "person", "show", "phone:13812345678", "--purpose", "customer_service")
    assert code == 1 and "erased on" in out
    code, out = run(shop, "keys", "rotate", "--json")
    assert code == 0 and json.loads(out)["retired"] == ["k1"]
    code, out = run(shop, "keys", "status", "--json")
    assert json.loads(out)["current"] == "k2"
    code, out = run(shop, "retention", "apply", "--dry-run", "--json")
    assert code == 0 and json.loads(out)["dry_run"] is True


def test_erase_asks_before_acting(shop: Shop) -> None:
    shop.workspace.close()
    result = runner.invoke(
        cli(), ["person", "erase", "phone:13812345678", "--workspace", str(shop.workspace.root)], input="n\n"
    )
    assert result.exit_code == 1 and "Erase this person" in result.output
    assert shop.workspace.warehouse.count("events", "source = 'crm'") == 4


def test_bad_input_gives_one_readable_error(shop: Shop) -> None:
    for identifier in ("13812345678", "phone:" + "1" * 10_000_000, "phone:not a phone", "bad type:1"):
        code, out = run(shop, "person", "show", identifier, "--purpose", "customer_service")
        assert code == 1 and "error" in out and "Traceback" not in out
    code, out = run(shop, "person", "show", "phone:13812345678", "--purpose", "x'; drop")
    assert code == 1 and "invalid purpose" in out
    code, out = run(shop, "principal", "list", api_key="hx_000000000000_" + "a" * 43)
    assert code == 1 and "not valid" in out
