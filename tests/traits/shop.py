"""A small shop workspace ingested from real files, with persons assigned the way identity would.

Customers C1 (moves from 上海 to 北京 in the CRM; a lower-priority app profile later says 杭州), C2 (first
buys on 28 March) and C3 (browses once on 29 March, never buys). Times in the files are local
(Asia/Shanghai). Expected values in the tests are worked out by hand from these rows.
"""

from __future__ import annotations

import json

from huaxiang.ingest.pipeline import ingest_all
from huaxiang.privacy.crypto import token
from huaxiang.workspace import Workspace
from tests.conftest import MakeWorkspace

SOURCES = """\
sources:
  - name: crm
    format: csv
    path: data/crm.csv
    key: [客户编号, 更新时间]
    event_type: identify
    timestamp: 更新时间
    fields:
      - {column: 客户编号, role: identifier, name: crm_id, required: true}
      - {column: 性别, role: attribute, name: gender, kind: gender}
      - {column: 出生日期, role: attribute, name: birth_date, kind: date}
      - {column: 地址, role: attribute, name: address, kind: address}
      - {column: 会员等级, role: attribute, name: member_level}
  - name: app_profile
    format: csv
    path: data/app_profile.csv
    key: [crm_id, updated]
    event_type: identify
    timestamp: updated
    fields:
      - {column: crm_id, role: identifier, name: crm_id, required: true}
      - {column: address, role: attribute, name: address, kind: address}
  - name: orders
    format: jsonl
    path: data/orders.jsonl
    key: [order_id, line_no]
    event_type: purchase
    timestamp: paid_at
    fields:
      - {column: crm_id, role: identifier, name: crm_id, required: true}
      - {column: order_id, name: order_id, required: true}
      - {column: line_no, name: line_no, kind: integer}
      - {column: amount, name: amount, kind: amount}
      - {column: category, name: category}
      - {column: channel, name: channel}
      - {column: status, name: status}
  - name: web
    format: csv
    path: data/web.csv
    key: [id]
    event_type_column: event
    timestamp: ts
    fields:
      - {column: crm_id, role: identifier, name: crm_id, required: true}
      - {column: category, name: category}
"""

CRM = (
    "客户编号,性别,出生日期,地址,会员等级,更新时间\n"
    "C1,男,1990-06-16,上海市浦东新区张江路1号,金卡,2024-01-05 10:00:00\n"
    "C1,男,1990-06-16,北京市朝阳区建国路88号,金卡,2024-03-01 10:00:00\n"
    "C2,女,2001-02-03,广东省深圳市南山区科技园,银卡,2024-02-01 09:00:00\n"
)
APP_PROFILE = "crm_id,address,updated\nC1,浙江省杭州市西湖区文三路1号,2024-04-01 08:00:00\nC1,浙江省杭州市西湖区文三路1号,2024-03-30 08:00:00\n"
ORDER_LINES = [
    ("C1", "O1", 1, "100.00", "数码", "app", "paid", "2024-01-10 20:00:00"),
    ("C1", "O1", 2, "50.50", "图书", "app", "paid", "2024-01-10 20:00:00"),
    ("C1", "O2", 1, "200.00", "数码", "web", "paid", "2024-02-20 12:30:00"),
    ("C1", "O3", 1, "80.00", "服饰", "app", "refunded", "2024-03-05 09:00:00"),
    ("C1", "O4", 1, "30.00", "数码", "app", "paid", "2024-03-25 21:15:00"),
    ("C2", "O5", 1, "999.00", "美妆", "web", "paid", "2024-03-28 08:00:00"),
    ("C1", "O6", 1, "500.00", "数码", "app", "paid", "2024-04-02 10:00:00"),  # after the as-of day
]
WEB = (
    "id,crm_id,event,category,ts\n"
    "w1,C1,page_view,数码,2024-03-20 10:00:00\n"
    "w2,C1,page_view,数码,2024-03-21 10:00:00\n"
    "w3,C1,search,,2024-03-22 10:00:00\n"
    "w4,C2,page_view,美妆,2024-03-27 22:00:00\n"
    "w5,C3,page_view,图书,2024-03-29 12:00:00\n"
)
PERSONS = {"C1": "person-1", "C2": "person-2", "C3": "person-3"}


def orders_jsonl() -> str:
    keys = ("crm_id", "order_id", "line_no", "amount", "category", "channel", "status", "paid_at")
    return "".join(
        json.dumps(dict(zip(keys, line, strict=True)), ensure_ascii=False) + "\n" for line in ORDER_LINES
    )


def assign_persons(workspace: Workspace) -> None:
    """What identity resolution writes: each event's person, here one person per CRM number."""
    con = workspace.warehouse.con
    con.execute("CREATE TABLE IF NOT EXISTS event_persons(event_id VARCHAR, person_id VARCHAR)")
    tokens = {token(workspace.keyring, "crm_id", crm): person for crm, person in PERSONS.items()}
    for crm_token, person in tokens.items():
        con.execute(
            "INSERT INTO event_persons SELECT event_id, ? FROM event_identifiers WHERE id_type = 'crm_id' "
            "AND token = ?",
            [person, crm_token],
        )


def shop_workspace(make_workspace: MakeWorkspace, extra_yaml: str = "", name: str = "shop") -> Workspace:
    files: dict[str, bytes | str] = {
        "data/crm.csv": CRM,
        "data/app_profile.csv": APP_PROFILE,
        "data/orders.jsonl": orders_jsonl(),
        "data/web.csv": WEB,
    }
    workspace = make_workspace(SOURCES + extra_yaml, files, name=name)
    results = ingest_all(workspace)
    assert all(r.quarantined == 0 for r in results), [r.to_dict() for r in results]
    assign_persons(workspace)
    return workspace
