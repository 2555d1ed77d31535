"""Ingest end to end on real files and a real DuckDB warehouse: mapping, validation, quarantine, privacy."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from huaxiang.ingest import (
    IngestResult,
    ingest_all,
    ingest_source,
    list_quarantine,
    pipeline,
    retry_quarantine,
)
from huaxiang.ingest.kinds import ValueContext, kind_named
from huaxiang.privacy.crypto import token
from huaxiang.workspace import Workspace
from tests.conftest import MakeWorkspace

CRM_YAML = """\
sources:
  - name: crm
    format: csv
    path: data/crm.csv
    key: [客户编号]
    event_type: identify
    timestamp: 更新时间
    fields:
      - {column: 客户编号, role: identifier, name: crm_id, required: true}
      - {column: 手机号, role: identifier, name: phone}
      - {column: 身份证号, role: identifier, name: id_card, on_invalid: quarantine}
      - {column: 姓名, role: attribute, name: full_name, kind: name}
      - {column: 性别, role: attribute, name: gender, kind: gender}
      - {column: 地址, role: attribute, name: address, kind: address}
      - {column: 消费, role: attribute, name: spend, kind: amount}
"""

# Valid 居民身份证 numbers (checksums computed by the standard's rule), one per customer.
CRM_CSV = (
    "客户编号,姓名,手机号,身份证号,性别,地址,消费,更新时间\n"
    'C001,张伟,138 1234 5678,11010519491231002X,男,"北京市朝阳区\n建国路88号","¥1,299.00",2024-03-01 10:00:00\n'
    "C002,李娜,+86-139-0000-1111,,女,上海市浦东新区张江路1号,89.5元,2024/03/02 09:30\n"
    "C003,王芳,12345,,F,广东省深圳市南山区科技园,0,20240303120000\n"
    "C004,赵强,13700001111,110105194912310021,M,浙江省杭州市西湖区文三路,12,2024-03-04 08:00:00\n"
    ",无编号,13800009999,,男,北京市海淀区,1,2024-03-05 08:00:00\n"
)


def ingest(workspace: Workspace, *, force: bool = False) -> list[IngestResult]:
    if force:
        return [ingest_source(workspace, s.name, force=True) for s in workspace.config.sources]
    return ingest_all(workspace)


def crm_workspace(make_workspace: MakeWorkspace, encoding: str = "utf-8-sig") -> Workspace:
    return make_workspace(CRM_YAML, {"data/crm.csv": CRM_CSV.encode(encoding)})


def assert_invariant(result: IngestResult) -> None:
    assert result.records_read == result.accepted + result.quarantined
    assert result.accepted == result.inserted + result.duplicates


def test_csv_with_bom_quoted_newlines_and_chinese_headers(make_workspace: MakeWorkspace) -> None:
    workspace = crm_workspace(make_workspace)
    [result] = ingest(workspace)
    assert_invariant(result)
    assert (result.records_read, result.inserted, result.quarantined) == (5, 3, 2)
    warehouse = workspace.warehouse
    rows = warehouse.rows(
        "SELECT record_key, ts::VARCHAR, attributes->>'full_name', attributes->>'gender', attributes->>'city', "
        "(attributes->>'spend')::DECIMAL(18,2), attributes->>'birth_date', flags FROM events ORDER BY record_key"
    )
    by_key = {row[0]: row[1:] for row in rows}
    # Naive local times (Asia/Shanghai) are stored in UTC, whatever their format.
    assert by_key["C001"][0] == "2024-03-01 02:00:00"
    assert by_key["C002"][0] == "2024-03-02 01:30:00"
    assert by_key["C003"][0] == "2024-03-03 04:00:00"
    assert by_key["C001"][1:4] == ("张伟", "M", "北京市")
    assert float(by_key["C001"][4]) == 1299.00
    assert by_key["C001"][5] == "1949-12-31"  # derived from the ID number
    # An invalid phone that is not required is nulled and flagged, not quarantined.
    assert by_key["C003"][6] == ["手机号"]


def test_quarantine_keeps_file_line_reasons_and_raw_record(make_workspace: MakeWorkspace) -> None:
    workspace = crm_workspace(make_workspace)
    ingest(workspace)
    rows = workspace.warehouse.rows("SELECT file, line, reasons, raw_enc FROM quarantine ORDER BY line")
    assert [(file, line) for file, line, *_ in rows] == [("data/crm.csv", 6), ("data/crm.csv", 7)]
    reasons = [json.loads(r[2]) for r in rows]
    assert reasons[0][0]["field"] == "身份证号" and reasons[0][0]["reason"].startswith("invalid id_card")
    assert {"field": "客户编号", "reason": "required value is missing"} in reasons[1]
    assert {"field": "客户编号", "reason": "record key is empty"} in reasons[1]
    raw = json.loads(workspace.cipher.decrypt(rows[0][3], context="quarantine"))
    assert raw["身份证号"] == "110105194912310021" and raw["姓名"] == "赵强"


def test_identifiers_are_tokens_and_ciphertexts_only(make_workspace: MakeWorkspace) -> None:
    workspace = crm_workspace(make_workspace)
    ingest(workspace)
    tokens = {
        r[0]: r[1]
        for r in workspace.warehouse.rows(
            "SELECT token, value_enc FROM identifier_values WHERE id_type = 'phone'"
        )
    }
    expected = token(workspace.keyring, "phone", "+8613812345678")
    assert expected in tokens
    assert workspace.cipher.decrypt(tokens[expected], context="phone") == "+8613812345678"
    workspace.close()
    raw_bytes = workspace.warehouse_path.read_bytes()
    for plaintext in ("13812345678", "+8613812345678", "11010519491231002X", "13900001111"):
        assert plaintext.encode() not in raw_bytes


def test_gb18030_csv_is_detected(make_workspace: MakeWorkspace) -> None:
    workspace = crm_workspace(make_workspace, encoding="gb18030")
    [result] = ingest(workspace)
    assert result.encoding == "gb18030"
    names = {r[0] for r in workspace.warehouse.rows("SELECT attributes->>'full_name' FROM events")}
    assert names == {"张伟", "李娜", "王芳"}


def test_reingesting_adds_nothing_and_new_files_are_picked_up(make_workspace: MakeWorkspace) -> None:
    yaml = CRM_YAML.replace("path: data/crm.csv", "path: data/crm*.csv")
    workspace = make_workspace(yaml, {"data/crm.csv": CRM_CSV})
    first = ingest(workspace)[0]
    again = ingest(workspace)[0]
    assert again.records_read == 0 and again.skipped_files == ("data/crm.csv",)
    forced = ingest(workspace, force=True)[0]
    assert_invariant(forced)
    assert forced.inserted == 0 and forced.duplicates == first.inserted
    header = CRM_CSV.splitlines()[0]
    (workspace.root / "data/crm2.csv").write_text(
        header + "\nC009,孙丽,13911112222,,女,江苏省南京市鼓楼区,5,2024-04-01 08:00:00\n"
        "C009,孙丽,13911112222,,女,江苏省南京市鼓楼区,5,2024-04-01 08:00:00\n",
        encoding="utf-8",
    )
    new = ingest(workspace)[0]
    assert_invariant(new)
    assert new.files == ("data/crm2.csv",)
    assert (new.records_read, new.inserted, new.duplicates) == (2, 1, 1)
    assert workspace.warehouse.count("events") == first.inserted + 1


def test_jsonl_broken_line_is_quarantined_with_its_line(make_workspace: MakeWorkspace) -> None:
    lines = [
        json.dumps(
            {"order_id": "O1", "user_id": "u1", "price": "¥10.00", "paid_at": "2024-05-01T10:00:00+08:00"}
        ),
        "{not json",
        json.dumps({"order_id": "O2", "user_id": None, "price": "5", "paid_at": "2024-05-01T11:00:00Z"}),
        "",
        json.dumps({"order_id": "O3", "user_id": "u3", "price": 7.5, "paid_at": "2024-05-02 09:00:00"}),
    ]
    yaml = """\
sources:
  - name: online
    format: jsonl
    path: data/orders.jsonl
    key: [order_id]
    event_type: purchase
    timestamp: paid_at
    fields:
      - {column: user_id, role: identifier}
      - {column: order_id, role: property}
      - {column: price, role: property, name: amount, kind: amount}
"""
    workspace = make_workspace(yaml, {"data/orders.jsonl": "\n".join(lines) + "\n"})
    [result] = ingest(workspace)
    assert_invariant(result)
    assert (result.records_read, result.inserted, result.quarantined) == (4, 2, 2)
    quarantined = dict(workspace.warehouse.rows("SELECT line, reasons FROM quarantine"))
    assert set(quarantined) == {2, 3}
    assert "JSON" in quarantined[2] and "no usable identifier" in quarantined[3]
    rows = dict(workspace.warehouse.rows("SELECT record_key, ts::VARCHAR FROM events"))
    assert rows == {"O1": "2024-05-01 02:00:00", "O3": "2024-05-02 01:00:00"}


def test_parquet_glob_and_xlsx(make_workspace: MakeWorkspace, tmp_path: Path) -> None:
    parts = tmp_path / "parts"
    parts.mkdir()
    for n in range(2):
        pq.write_table(
            pa.table(
                {
                    "event_id": [f"e{n}{i}" for i in range(3)],
                    "device_id": [f"d{i}" for i in range(3)],
                    "event": ["page_view", "search", "teleport"],
                    "ts": pa.array(
                        [1_714_521_600_000_000 + i for i in range(3)], type=pa.timestamp("us", tz="UTC")
                    ),
                }
            ),
            parts / f"part-{n}.parquet",
        )
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "工单"
    sheet.append(["工单号", "手机号", "类型", "创建时间"])
    sheet.append(["T1", "13812345678", "投诉", "2024-05-01 10:00:00"])
    sheet.append(["T2", "bad", "评价", "2024-05-01 11:00:00"])
    workbook.save(tmp_path / "tickets.xlsx")
    yaml = """\
sources:
  - name: web
    format: parquet
    path: data/web/part-*.parquet
    key: [event_id]
    event_type_column: event
    event_type_map: {page_view: page_view, search: search}
    timestamp: ts
    fields:
      - {column: device_id, role: identifier}
  - name: tickets
    format: xlsx
    path: data/tickets.xlsx
    sheet: 工单
    key: [工单号]
    event_type_column: 类型
    event_type_map: {投诉: complaint, 评价: review}
    timestamp: 创建时间
    fields:
      - {column: 手机号, role: identifier, name: phone, on_invalid: quarantine}
"""
    files = {f"data/web/part-{n}.parquet": (parts / f"part-{n}.parquet").read_bytes() for n in range(2)}
    files["data/tickets.xlsx"] = (tmp_path / "tickets.xlsx").read_bytes()
    workspace = make_workspace(yaml, files)
    web, tickets = ingest(workspace)
    for result in (web, tickets):
        assert_invariant(result)
    assert (web.records_read, web.inserted, web.quarantined) == (6, 4, 2)
    assert web.files == ("data/web/part-0.parquet", "data/web/part-1.parquet")
    assert any(r.startswith("event: unknown event type teleport") for r in web.reasons), web.reasons
    assert (tickets.records_read, tickets.inserted, tickets.quarantined) == (2, 1, 1)
    line = workspace.warehouse.scalar("SELECT line FROM quarantine WHERE source = 'tickets'")
    assert line == 3  # the Excel row, header included
    assert workspace.warehouse.scalar("SELECT type FROM events WHERE source = 'tickets'") == "complaint"


def test_quarantine_retry_after_fixing_the_mapping(make_workspace: MakeWorkspace) -> None:
    workspace = crm_workspace(make_workspace)
    ingest(workspace)
    assert len(list_quarantine(workspace)) == 2
    config = workspace.root / "huaxiang.yaml"
    config.write_text(config.read_text().replace("name: id_card, on_invalid: quarantine", "name: id_card"))
    [result] = retry_quarantine(workspace)
    assert_invariant(result)
    assert (result.records_read, result.inserted, result.quarantined) == (2, 1, 1)
    assert [r.record_key for r in list_quarantine(workspace, status="readmitted")] == ["C004"]
    assert len(list_quarantine(workspace)) == 1
    flags = workspace.warehouse.scalar("SELECT flags FROM events WHERE record_key = 'C004'")
    assert flags == ["身份证号"]


def test_value_map_translates_source_codes_before_validation(make_workspace: MakeWorkspace) -> None:
    yaml = """\
sources:
  - name: members
    format: csv
    path: data/m.csv
    key: [id]
    event_type: identify
    fields:
      - {column: id, role: identifier, name: crm_id}
      - {column: sex, role: attribute, name: gender, kind: gender, value_map: {"1": 男, "0": 女}}
"""
    workspace = make_workspace(yaml, {"data/m.csv": "id,sex\nA,1\nB,0\nC,9\nD,x\n"})
    [result] = ingest(workspace)
    assert_invariant(result)
    genders = dict(workspace.warehouse.rows("SELECT record_key, attributes->>'gender' FROM events"))
    assert genders == {"A": "M", "B": "F", "C": None, "D": None}
    # 9 is the standard's "unknown": missing, not invalid; x is invalid.
    present, valid = workspace.warehouse.rows(
        "SELECT present, valid FROM field_stats WHERE field = 'gender'"
    )[0]
    assert (present, valid) == (3, 2)


def test_quarantine_show_masks_by_role_and_is_audited(make_workspace: MakeWorkspace) -> None:
    from huaxiang.ingest import show_quarantined
    from huaxiang.privacy.access import add_principal, authenticate, local_owner

    workspace = crm_workspace(make_workspace)
    ingest(workspace)
    [record] = [r for r in list_quarantine(workspace) if r.record_key == "C004"]
    owner = local_owner(workspace.key_file)
    analyst = authenticate(workspace, add_principal(workspace, "ana", "analyst", by=owner).api_key)
    as_analyst = show_quarantined(workspace, record.quarantine_id, principal=analyst)
    assert as_analyst.raw is not None
    assert "身份证号" not in as_analyst.raw  # sensitive: hidden from analysts
    assert as_analyst.raw["手机号"] != "13700001111" and as_analyst.raw["手机号"] is not None
    assert workspace.warehouse.count("audit_log", "action = 'read_quarantine'") == 1


ORDERS_YAML = """\
sources:
  - name: orders
    format: csv
    path: data/orders.csv
    key: [order_id]
    event_type: purchase
    timestamp: paid_at
    fields:
      - {column: order_id, role: property, required: true}
      - {column: phone, role: identifier}
      - {column: amount, role: property, kind: amount, on_invalid: quarantine}
      - {column: gender, role: property, kind: gender}
      - {column: store, role: property}
"""


def test_repetitive_fields_are_normalised_by_value_with_the_same_outcome(
    make_workspace: MakeWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A field whose values repeat is normalised once per distinct value and joined back; the events,
    flags and quarantine reasons are exactly those of normalising every row."""
    amounts = ["¥1,299.00", "89.5元", "一百元", "-", "abc", "12"]  # SQL fast path, Python, blank, invalid
    genders = ["男", "F", "9", "", "女士"]
    times = ["2024-03-01 10:00:00", "2024/3/1 9:05", "20240301120000", "昨天"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["order_id", "phone", "amount", "gender", "store", "paid_at"])
    for i in range(600):
        phone = f"138{i:08d}" if i % 7 else f"+86 139 {i:04d} {i:04d}"
        writer.writerow([f"O{i}", phone, amounts[i % 6], genders[i % 5], f"S{i % 3}", times[i % 4]])
    files = {"data/orders.csv": buffer.getvalue().encode()}

    def outcome(workspace: Workspace) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        [result] = ingest(workspace)
        assert_invariant(result)
        events = workspace.warehouse.rows(
            "SELECT record_key, ts, properties::VARCHAR, flags FROM events ORDER BY record_key"
        )
        reasons = workspace.warehouse.rows("SELECT record_key, reasons FROM quarantine ORDER BY record_key")
        return events, reasons

    by_value = outcome(make_workspace(ORDERS_YAML, files, name="by-value"))
    monkeypatch.setattr(pipeline, "REPETITION_FACTOR", 10**9)  # no field counts as repetitive
    by_row = outcome(make_workspace(ORDERS_YAML, files, name="by-row"))
    assert by_value == by_row
    assert len(by_value[0]) > 100 and len(by_value[1]) > 100  # both accepted and quarantined records

    con = duckdb.connect()
    con.register("raw_input", pa_csv.read_csv(io.BytesIO(files["data/orders.csv"])))
    spec = make_workspace(ORDERS_YAML, files, name="spec").config.source("orders")
    columns = [pipeline._Column(i, f, kind_named(f.value_kind)) for i, f in enumerate(spec.fields)]
    monkeypatch.setattr(pipeline, "REPETITION_FACTOR", 10)
    chosen = pipeline._repetitive(con, columns, ValueContext(timezone="Asia/Shanghai", region="CN"))
    assert {spec.fields[i].column for i in chosen} == {"amount", "gender", "store"}


def test_event_ids_do_not_depend_on_whether_the_key_is_also_a_field(make_workspace: MakeWorkspace) -> None:
    # The key's trimmed text is shared with a field reading the same column; a value map on that field
    # changes the field, never the key.
    files = {"data/m.csv": "code,phone\n 1 ,13812345678\n0,13900001111\n,13700001111\n"}

    def ids(field: str) -> list[tuple[object, ...]]:
        yaml = f"""\
sources:
  - name: members
    format: csv
    path: data/m.csv
    key: [code]
    event_type: identify
    fields:
      - {{column: phone, role: identifier}}
{field}"""
        workspace = make_workspace(yaml, files, name=f"ws{len(field)}")
        [result] = ingest(workspace)
        assert (result.inserted, result.quarantined) == (2, 1)
        [reasons] = workspace.warehouse.rows("SELECT reasons FROM quarantine")[0]
        assert "record key is empty" in reasons
        return workspace.warehouse.rows("SELECT event_id, record_key FROM events ORDER BY record_key")

    alone = ids("")
    assert [key for _, key in alone] == ["0", "1"]
    assert ids("      - {column: code, role: attribute, name: level}\n") == alone
    mapped = '      - {column: code, role: attribute, name: level, value_map: {"1": gold, "0": silver}}\n'
    assert ids(mapped) == alone
