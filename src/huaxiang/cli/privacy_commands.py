"""Privacy commands: keys, audit, data-subject requests, retention, consent and principals.

Each command parses, opens the workspace, works out who is acting (``HUAXIANG_API_KEY``, else the local
owner as ``admin``), calls one function of :mod:`huaxiang.privacy` and renders. Identifiers are typed as
``TYPE:VALUE`` and normalised exactly as ingest normalises that type, so ``phone:138 1234 5678`` finds
``+8613812345678``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from huaxiang import api
from huaxiang.cli.common import JsonOption, WorkspaceOption, console, friendly_errors, print_json
from huaxiang.config import IDENTIFIER_KINDS
from huaxiang.i18n import bilingual, current_language
from huaxiang.ingest.kinds import ValueContext, kind_named
from huaxiang.privacy import access, audit, keys, subjects
from huaxiang.privacy.compaction import compact_warehouse
from huaxiang.privacy.context import audit_anchor_path
from huaxiang.privacy.persons import MAX_IDENTIFIER_LENGTH, Identifier
from huaxiang.privacy.reader import read_consent, read_person
from huaxiang.privacy.roles import InvalidInputError, Principal, require
from huaxiang.workspace import Workspace

keys_app = typer.Typer(help="Encryption keys: status and rotation. 密钥管理。", no_args_is_help=True)
audit_app = typer.Typer(
    help="The access audit log: verify the chain, list entries. 访问审计日志。", no_args_is_help=True
)
person_app = typer.Typer(
    help="One person: show (masked by role), export, erase. 个人信息查询、导出与删除。", no_args_is_help=True
)
retention_app = typer.Typer(help="Retention: purge expired events. 数据保存期限。", no_args_is_help=True)
consent_app = typer.Typer(help="Consent per person and purpose. 同意管理。", no_args_is_help=True)
principal_app = typer.Typer(help="Principals and their API keys. 访问主体与 API 密钥。", no_args_is_help=True)

IdentifierArgument = Annotated[
    str, typer.Argument(help="TYPE:VALUE, e.g. phone:13812345678 or id_card:11010519491231002X.")
]


def _text(zh: str, en: str) -> str:
    return bilingual(zh, en).text(current_language())


@contextmanager
def _acting(workspace: Path) -> Iterator[tuple[Workspace, Principal]]:
    with api.open_workspace(workspace) as ws:
        yield ws, access.acting_principal(ws)


def parse_identifier(text: str, workspace: Workspace) -> Identifier:
    """``TYPE:VALUE`` → an :class:`Identifier` normalised by the kind ingest uses for that type."""
    id_type, separator, raw = text.partition(":")
    if not separator:
        raise InvalidInputError("expected TYPE:VALUE / 格式应为 类型:值", hint="e.g. phone:13812345678")
    if len(raw) > MAX_IDENTIFIER_LENGTH:
        raise InvalidInputError(
            f"identifier value is longer than {MAX_IDENTIFIER_LENGTH} characters / 标识值过长"
        )
    Identifier(id_type, raw)  # refuses malformed types and control characters before any normaliser runs
    kind_name = next(
        (
            f.value_kind
            for s in workspace.config.sources
            for f in s.fields
            if f.role == "identifier" and f.target == id_type
        ),
        IDENTIFIER_KINDS.get(id_type, "string"),
    )
    context = ValueContext(
        timezone=workspace.config.workspace.timezone, region=workspace.config.workspace.region
    )
    result = kind_named(kind_name).normalise(raw, context)
    if result.value is None:
        raise InvalidInputError(
            f"not a valid {id_type}: {result.error or 'empty'} / {id_type} 无效", hint="check the value"
        )
    return Identifier(id_type, result.value)


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    return table


# --- keys -------------------------------------------------------------------------------------------


@keys_app.command("status")
@friendly_errors
def keys_status(workspace: WorkspaceOption = Path("."), as_json: JsonOption = False) -> None:
    """Key ids, the current one, and how many ciphertexts each key protects where. 密钥状态。"""
    with _acting(workspace) as (ws, principal):
        require(principal, "manage_keys")
        status = keys.key_status(ws)
    if as_json:
        print_json(status)
        return
    rows = [
        [
            k,
            "✓" if k == status.current else "",
            ", ".join(f"{loc}: {n:,}" for loc, n in status.usage.get(k, {}).items()),
        ]
        for k in status.keys
    ]
    console.print(
        _table(_text("密钥", "Keys"), ["id", _text("当前", "current"), _text("使用位置", "used in")], rows)
    )
    if status.from_environment:
        console.print(_text("密钥来自环境变量。", "The key comes from the environment variable."))


@keys_app.command("rotate")
@friendly_errors
def keys_rotate(
    workspace: WorkspaceOption = Path("."),
    keep_old: Annotated[bool, typer.Option("--keep-old", help="Keep the old key in the key file.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Re-encrypt every ciphertext under a new key and retire the old one. 轮换密钥。"""
    with _acting(workspace) as (ws, principal):
        report = keys.rotate_keys(ws, principal, retire=not keep_old)
        key_file = ws.key_file
    if as_json:
        print_json(report)
        return
    console.print(
        f"[green]✓[/] {report.previous} → {report.current}: {sum(report.reencrypted.values()):,} re-encrypted"
    )
    if report.retired:
        console.print(f"  retired / 已停用: {', '.join(report.retired)}")
    console.print(f"  [yellow]back up the key file[/] {key_file} / 请备份密钥文件")


# --- audit ------------------------------------------------------------------------------------------


@audit_app.command("verify")
@friendly_errors
def audit_verify(workspace: WorkspaceOption = Path("."), as_json: JsonOption = False) -> None:
    """Recompute the hash chain; exit 1 and say where if any entry was edited, deleted or reordered. 校验审计日志。"""
    with _acting(workspace) as (ws, principal):
        require(principal, "read_audit")
        result = audit.verify_audit(ws.warehouse, ws.keyring, audit_anchor_path(ws))
    if as_json:
        print_json({"ok": result.ok, "entries": result.entries, "problems": result.problems})
    elif result.ok and not result.problems:
        console.print(f"[green]✓[/] {result.entries:,} {_text('条审计记录完整', 'audit entries intact')}")
    else:
        for problem in result.problems:
            style = "yellow" if problem.kind == "unanchored" else "bold red"
            console.print(f"[{style}]{problem.kind}[/] {problem.message}", highlight=False)
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("list")
@friendly_errors
def audit_list(
    workspace: WorkspaceOption = Path("."),
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 50,
    action: Annotated[str | None, typer.Option(help="Only this action, e.g. read_person.")] = None,
    principal_id: Annotated[str | None, typer.Option("--principal", help="Only this principal id.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Newest audit entries: who, what, why, when (persons as references, never identifiers). 审计记录。"""
    with _acting(workspace) as (ws, principal):
        require(principal, "read_audit")
        entries = audit.list_audit(ws.warehouse, principal=principal_id, action=action, limit=limit)
    if as_json:
        print_json(entries)
        return
    rows = [
        [
            e.seq,
            f"{e.at:%Y-%m-%d %H:%M:%S}",
            e.principal,
            e.role,
            e.action,
            e.purpose,
            len(e.subjects),
            ", ".join(e.fields)[:60],
        ]
        for e in entries
    ]
    headers = [
        "#",
        _text("时间(UTC)", "at (UTC)"),
        _text("主体", "principal"),
        _text("角色", "role"),
        _text("操作", "action"),
        _text("用途", "purpose"),
        _text("主体引用数", "subject refs"),
        _text("字段", "fields"),
    ]
    console.print(_table(_text("审计日志", "Audit log"), headers, rows))


# --- person -----------------------------------------------------------------------------------------


@person_app.command("show")
@friendly_errors
def person_show(
    identifier: IdentifierArgument,
    purpose: Annotated[str, typer.Option(help="Why you are reading (logged), e.g. customer_service.")],
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """A person's profile as your role may see it (masked or hidden fields), logged. 查看个人画像。"""
    with _acting(workspace) as (ws, principal):
        view = read_person(ws, principal, parse_identifier(identifier, ws), purpose)
    if as_json:
        print_json(view)
        return
    rows = [[f.name, f.value, f.visibility] for f in view.identifiers]
    rows += [[f.name, f.value, f.visibility] for f in view.attributes]
    title = _text(
        f"个人画像（{view.events} 个事件，来源 {', '.join(view.sources)}）",
        f"Person ({view.events} events from {', '.join(view.sources)})",
    )
    console.print(
        _table(title, [_text("字段", "field"), _text("值", "value"), _text("可见性", "visibility")], rows)
    )
    if view.minor:
        console.print(
            f"[yellow]{_text('未满十四周岁：个人信息按敏感信息处理', 'Under 14: personal data handled as sensitive')}[/]"
        )


@person_app.command("export")
@friendly_errors
def person_export(
    identifier: IdentifierArgument,
    out: Annotated[Path, typer.Option(help="A new folder for person.json and the CSV files.")],
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Write everything held about a person (JSON + CSV) for their access request. 导出个人信息副本。"""
    with _acting(workspace) as (ws, principal):
        result = subjects.export_person(ws, principal, parse_identifier(identifier, ws), out)
    if as_json:
        print_json(result)
        return
    for table, count in result.tables.items():
        console.print(f"  {table:<24} {count:>7,}")
    console.print(
        f"[green]✓[/] {_text('已导出到', 'written to')} {result.folder} ({len(result.files)} files)"
    )


def _render_erasure(report: subjects.ErasureReport) -> None:
    rows = [[t, n, report.remaining.get(t, "" if report.dry_run else 0)] for t, n in report.deleted.items()]
    rows += [[t, 0, n] for t, n in report.remaining.items() if t not in report.deleted and n]
    title = _text("删除预览", "Erasure preview") if report.dry_run else _text("删除报告", "Erasure report")
    console.print(
        _table(title, [_text("表", "table"), _text("删除行数", "rows deleted"), _text("剩余", "left")], rows)
    )
    for table, count in report.redacted.items():
        console.print(
            f"  {table}: {count} {_text('条他人记录中对此人的引用已置空', 'other persons’ rows had their reference to this person nulled')}"
        )
    if not report.dry_run and not report.compacted:
        console.print(
            f"[yellow]{_text('仓库文件未压缩：请运行 huaxiang retention compact', 'The warehouse file was not compacted: run `huaxiang retention compact`')}[/]"
        )
    if not report.dry_run:
        mark = "[green]✓[/]" if report.verified else "[bold red]✗[/]"
        console.print(
            f"{mark} {_text('已核验：所有表中均无此人数据', 'verified: no table holds this person')} "
            f"({report.suppressed} {_text('个标识已加入抑制名单', 'identifiers suppressed')}; "
            f"request {report.request_id}, audit #{report.audit_seq})"
        )


@person_app.command("erase")
@friendly_errors
def person_erase(
    identifier: IdentifierArgument,
    workspace: WorkspaceOption = Path("."),
    request_id: Annotated[str | None, typer.Option(help="Your reference for the request (logged).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show what would be deleted.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Erase a person from every table, suppress their identifiers, and verify. 删除个人信息。"""
    with _acting(workspace) as (ws, principal):
        parsed = parse_identifier(identifier, ws)
        preview = subjects.erase_person(ws, principal, parsed, request_id=request_id, dry_run=True)
        if dry_run:
            report = preview
        else:
            if not yes:
                _render_erasure(preview)
                typer.confirm(
                    _text("确认删除？此操作不可撤销", "Erase this person? This cannot be undone"), abort=True
                )
            report = subjects.erase_person(ws, principal, parsed, request_id=preview.request_id)
    if as_json:
        print_json({**asdict(report), "verified": report.verified})
    else:
        _render_erasure(report)
    if not report.dry_run and not report.verified:
        raise typer.Exit(1)


# --- retention --------------------------------------------------------------------------------------


@retention_app.command("apply")
@friendly_errors
def retention_apply(
    workspace: WorkspaceOption = Path("."),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count what would be purged.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Purge events older than their source's retention period, and re-derive what depended on them. 清理过期数据。"""
    with _acting(workspace) as (ws, principal):
        run = api.apply_retention(ws, principal, dry_run=dry_run)
    report = run.retention
    if as_json:
        print_json(
            {
                **asdict(report),
                "resolved": run.resolution is not None,
                "rebuilt": run.build is not None,
            }
        )
        return
    rows = [
        [
            s.source,
            f"{s.period_days}d",
            f"{s.cutoff:%Y-%m-%d}",
            s.events,
            sum(s.derived.values()),
            s.quarantined,
        ]
        for s in report.sources
    ]
    headers = [
        _text("数据源", "source"),
        _text("保存期", "period"),
        _text("截止", "cutoff"),
        _text("事件", "events"),
        _text("派生行", "derived rows"),
        _text("隔离记录", "quarantined"),
    ]
    title = _text("保存期限（预览）", "Retention (dry run)") if dry_run else _text("保存期限", "Retention")
    console.print(_table(title, headers, rows))
    if not report.sources:
        console.print(_text("没有数据源设置 retention。", "No source sets `retention`."))
    if run.resolution is not None:
        console.print(
            f"[green]✓[/] {_text('已重新识别身份', 'identities re-resolved')} "
            f"({report.persons_affected:,} {_text('人受影响', 'persons affected')})"
        )
    if run.build is not None:
        console.print(f"[green]✓[/] {_text('已重新生成画像', 'profiles rebuilt')}")


@retention_app.command("compact")
@friendly_errors
def retention_compact(workspace: WorkspaceOption = Path("."), as_json: JsonOption = False) -> None:
    """Rewrite the warehouse file so deleted rows leave no bytes behind. 压缩仓库文件。"""
    with _acting(workspace) as (ws, principal):
        require(principal, "apply_retention")
        result = compact_warehouse(ws)
    if as_json:
        print_json(result)
    elif result is not None:
        console.print(f"[green]✓[/] {result.bytes_before:,} → {result.bytes_after:,} bytes")


# --- consent ----------------------------------------------------------------------------------------


@consent_app.command("show")
@friendly_errors
def consent_show(
    identifier: IdentifierArgument, workspace: WorkspaceOption = Path("."), as_json: JsonOption = False
) -> None:
    """A person's consent per purpose, with the decision and evidence behind each. 查看同意状态。"""
    with _acting(workspace) as (ws, principal):
        consent = read_consent(ws, principal, parse_identifier(identifier, ws))
    if as_json:
        print_json(consent)
        return
    rows = []
    for purpose, state in consent.states.items():
        decided = state.decided_by
        rows.append(
            [
                purpose,
                state.status,
                decided and f"{decided.at:%Y-%m-%d %H:%M}",
                decided and decided.source,
                decided and (decided.evidence or decided.record_ref),
            ]
        )
    headers = [
        _text("用途", "purpose"),
        _text("状态", "status"),
        _text("时间", "at"),
        _text("来源", "source"),
        _text("证据", "evidence"),
    ]
    console.print(_table(_text("同意状态", "Consent"), headers, rows))
    if consent.minor:
        console.print(
            f"[yellow]{_text('未满十四周岁：需监护人同意', 'Under 14: needs a guardian’s consent')}[/]"
        )


# --- principals -------------------------------------------------------------------------------------


@principal_app.command("add")
@friendly_errors
def principal_add(
    name: Annotated[str, typer.Argument(help="A name for the person or service.")],
    role: Annotated[str, typer.Option(help="admin | analyst | marketer | service | dpo")],
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Register a principal and print its API key once (it is stored only as a hash). 新增访问主体。"""
    with _acting(workspace) as (ws, principal):
        created = access.add_principal(ws, name, role, by=principal)
    if as_json:
        print_json({"principal": created.principal, "api_key": created.api_key})
        return
    console.print(
        f"[green]✓[/] {created.principal.name} ({created.principal.role}) {created.principal.principal_id}"
    )
    console.print(_text("API 密钥（只显示这一次）：", "API key (shown only this once):"))
    sys.stdout.write(created.api_key + "\n")


@principal_app.command("list")
@friendly_errors
def principal_list(
    workspace: WorkspaceOption = Path("."),
    include_revoked: Annotated[bool, typer.Option("--all", help="Include revoked principals.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Registered principals and their roles (never their keys). 访问主体列表。"""
    with _acting(workspace) as (ws, principal):
        require(principal, "manage_principals")
        records = access.list_principals(ws, include_revoked=include_revoked)
    if as_json:
        print_json(records)
        return
    rows = [
        [
            r.name,
            r.role,
            r.principal_id,
            f"{r.created_at:%Y-%m-%d}",
            r.revoked_at and f"{r.revoked_at:%Y-%m-%d}",
        ]
        for r in records
    ]
    headers = [
        _text("名称", "name"),
        _text("角色", "role"),
        "id",
        _text("创建", "created"),
        _text("撤销", "revoked"),
    ]
    console.print(_table(_text("访问主体", "Principals"), headers, rows))


@principal_app.command("revoke")
@friendly_errors
def principal_revoke(name: Annotated[str, typer.Argument()], workspace: WorkspaceOption = Path(".")) -> None:
    """Revoke a principal's API key at once. 撤销访问主体。"""
    with _acting(workspace) as (ws, principal):
        record = access.revoke_principal(ws, name, by=principal)
    console.print(f"[green]✓[/] {record.name} {_text('已撤销', 'revoked')}")


def register(app: typer.Typer) -> None:
    """Add every privacy sub-app to the main ``huaxiang`` app."""
    app.add_typer(keys_app, name="keys")
    app.add_typer(audit_app, name="audit")
    app.add_typer(person_app, name="person")
    app.add_typer(retention_app, name="retention")
    app.add_typer(consent_app, name="consent")
    app.add_typer(principal_app, name="principal")
