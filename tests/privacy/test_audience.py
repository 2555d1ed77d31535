"""Audience exports: only persons who consented to the purpose, contacts masked by role, every export audited."""

from __future__ import annotations

import csv
import json
import stat
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from huaxiang import api
from huaxiang.cli.audience_commands import register
from huaxiang.errors import HuaxiangError
from huaxiang.expressions import ExpressionError
from huaxiang.privacy import audit
from huaxiang.privacy.consent import person_consent
from huaxiang.privacy.context import utc_now
from huaxiang.privacy.crypto import token
from huaxiang.privacy.persons import Identifier, IdentityLinks
from huaxiang.privacy.roles import AccessDeniedError
from huaxiang.privacy.subjects import export_person
from huaxiang.workspace import Workspace
from tests.privacy.conftest import OpenResolvedShop, as_role


def phones_by_person(ws: Workspace) -> dict[str, set[str]]:
    """Every person's phone numbers in clear, decrypted here independently of the export."""
    found: dict[str, set[str]] = {}
    for person, sealed in ws.warehouse.rows(
        "SELECT p.person_id, v.value_enc FROM event_persons p JOIN event_identifiers i USING (event_id) "
        "JOIN identifier_values v ON v.token = i.token WHERE i.id_type = 'phone'"
    ):
        found.setdefault(person, set()).add(ws.cipher.decrypt(sealed, context="phone"))
    return found


def consented(ws: Workspace, person_id: str, purpose: str) -> bool:
    person = IdentityLinks().locate(
        ws.warehouse,
        [
            r[0]
            for r in ws.warehouse.rows(
                "SELECT i.token FROM event_persons p JOIN event_identifiers i USING (event_id) WHERE p.person_id = ?",
                [person_id],
            )
        ],
    )
    consent = person_consent(ws.warehouse, ws.cipher, person, as_of=utc_now().date())
    return consent.state(purpose).allowed


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_only_consenting_persons_are_exported_masked_for_a_marketer(
    resolved_shop: OpenResolvedShop, tmp_path: Path
) -> None:
    shop = resolved_shop()
    ws = shop.workspace
    out = tmp_path / "sms.csv"
    result = api.export_audience(ws, as_role("marketer"), "marketing_sms", out)
    rows = read_csv(out)
    everyone = {p for (p,) in ws.warehouse.rows("SELECT person_id FROM profiles")}
    allowed = {p for p in everyone if consented(ws, p, "marketing_sms")}
    assert result.selected == len(everyone)
    assert {r["person_id"] for r in rows} == allowed and allowed  # consent decides, nobody else gets through
    assert set(result.audience.excluded) == everyone - allowed
    assert result.audience.excluded_counts() == {"consent_withdrawn": 1, "minor_without_guardian": 1}
    phones = phones_by_person(ws)
    for row in rows:
        clear = next(iter(phones[row["person_id"]])).removeprefix("+86")
        assert row["phone"] == clear[:3] + "****" + clear[-4:]  # 139****1111
        assert clear not in out.read_text(encoding="utf-8-sig")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_the_dpo_sees_contacts_in_clear_and_a_service_agent_may_not_export(
    resolved_shop: OpenResolvedShop, tmp_path: Path
) -> None:
    shop = resolved_shop()
    ws = shop.workspace
    out = tmp_path / "sms.parquet"
    result = api.export_audience(ws, as_role("dpo"), "marketing_sms", out)
    table = pq.read_table(out).to_pylist()
    phones = phones_by_person(ws)
    assert table and all(row["phone"] in phones[row["person_id"]] for row in table)
    assert {m.visibility for m in result.audience.members} == {"clear"}
    with pytest.raises(AccessDeniedError):
        api.export_audience(ws, as_role("service"), "marketing_sms", tmp_path / "service.csv")
    assert not (tmp_path / "service.csv").exists()
    with pytest.raises(HuaxiangError, match="already exists"):
        api.export_audience(ws, as_role("dpo"), "marketing_sms", out)


def test_refusing_personalisation_excludes_and_where_filters_profiles(
    resolved_shop: OpenResolvedShop, tmp_path: Path
) -> None:
    ws = resolved_shop().workspace
    buyers = {p for (p,) in ws.warehouse.rows("SELECT person_id FROM profiles WHERE orders_total >= 1")}
    result = api.export_audience(
        ws,
        as_role("analyst"),
        "personalisation",
        tmp_path / "p.csv",
        where="orders_total >= 1",
        contact="phone",
    )
    assert result.selected == len(buyers) == 2
    assert set(result.audience.excluded) == buyers and not result.audience.members
    li = Identifier("phone", "+8613900001111").token(ws.keyring)
    li_person = IdentityLinks().locate(ws.warehouse, [li]).key
    assert result.audience.excluded[li_person] == "refused_personalisation"  # PIPL art. 24
    assert read_csv(tmp_path / "p.csv") == []


def test_a_minors_contact_is_sensitive_hidden_from_a_marketer_clear_to_the_dpo(
    resolved_shop: OpenResolvedShop, tmp_path: Path
) -> None:
    ws = resolved_shop().workspace
    minor = (
        IdentityLinks().locate(ws.warehouse, [Identifier("phone", "+8613700002222").token(ws.keyring)]).key
    )
    marketer = api.export_audience(
        ws, as_role("marketer"), "marketing_email", tmp_path / "m.csv", contact="phone"
    )  # the guardian consented to e-mail marketing (K8)
    assert marketer.audience.excluded[minor] == "minor_contact_hidden"
    dpo = api.export_audience(ws, as_role("dpo"), "marketing_email", tmp_path / "d.csv", contact="phone")
    assert {m.person_id: m.contact for m in dpo.audience.members}[minor] == "+8613700002222"


def test_every_export_is_audited_with_its_purpose_and_reaches_the_persons_own_export(
    resolved_shop: OpenResolvedShop, tmp_path: Path
) -> None:
    shop = resolved_shop()
    ws = shop.workspace
    result = api.export_audience(ws, as_role("marketer", "mia"), "marketing_sms", tmp_path / "a.csv")
    [entry] = audit.list_audit(ws.warehouse, action="export_audience")
    assert (entry.principal, entry.role, entry.purpose) == ("p-marketer", "marketer", "marketing_sms")
    assert entry.fields == ("phone:masked",)
    phones = phones_by_person(ws)
    expected = {
        audit.subject_ref(token(ws.keyring, "phone", phone))
        for m in result.audience.members
        for phone in phones[m.person_id]
    }
    assert set(entry.subjects) == expected
    assert entry.detail["exported"] == len(result.audience.members) and entry.detail["out"] == "a.csv"
    assert audit.verify_audit(ws.warehouse, ws.keyring, ws.state_dir / "audit.anchor").ok
    copy = export_person(ws, shop.owner, Identifier("phone", "+8613900001111"), tmp_path / "li")
    document = json.loads((copy.folder / "person.json").read_text(encoding="utf-8"))
    assert any(
        e["action"] == "export_audience" and e["purpose"] == "marketing_sms" for e in document["access_log"]
    )


@pytest.mark.parametrize(
    "where",
    ["no_such_trait > 1", "orders_total > 1; DROP TABLE events", "1 = 1) OR (1 = 1", "orders_total"],
)
def test_a_bad_or_hostile_filter_is_refused_before_anything_runs(
    resolved_shop: OpenResolvedShop, tmp_path: Path, where: str
) -> None:
    ws = resolved_shop().workspace
    events = ws.warehouse.count("events")
    with pytest.raises(ExpressionError):
        api.export_audience(ws, as_role("marketer"), "marketing_sms", tmp_path / "x.csv", where=where)
    assert ws.warehouse.count("events") == events
    assert not (tmp_path / "x.csv").exists()
    assert audit.list_audit(ws.warehouse, action="export_audience") == []


def test_the_command_prints_how_many_were_excluded_and_why(
    resolved_shop: OpenResolvedShop, tmp_path: Path
) -> None:
    shop = resolved_shop()
    shop.workspace.close()
    app = typer.Typer()
    register(app)
    out = tmp_path / "cli.csv"
    args = ["audience", "export", "--purpose", "marketing_sms", "--out", str(out)]
    result = CliRunner().invoke(
        app, [*args, "--workspace", str(shop.workspace.root)], env={"LANG": "en_US.UTF-8"}
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "consent refused or withdrawn" in text and "under 14 without a guardian" in text
    assert len(read_csv(out)) == 2
    code = CliRunner().invoke(
        app, [*args, "--workspace", str(shop.workspace.root), "--json"]
    )  # the file exists now: refused, with the reason
    assert code.exit_code != 0 and "already exists" in code.output
