"""A small shop's workspace: CRM rows, orders, web visits and consent changes, ingested for real."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from huaxiang import api
from huaxiang.identity.resolve import resolve_identities
from huaxiang.ingest import ingest_all
from huaxiang.privacy.access import local_owner
from huaxiang.privacy.roles import Principal
from huaxiang.workspace import Workspace
from tests.conftest import MakeWorkspace

SOURCES = """\
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
      - {column: 邮箱, role: identifier, name: email}
      - {column: 姓名, role: attribute, name: full_name, kind: name}
      - {column: 地址, role: attribute, name: address, kind: address}
      - {column: 银行卡, role: attribute, name: bank_card, level: sensitive}
  - name: orders
    format: csv
    path: data/orders.csv
    key: [order_id]
    event_type: purchase
    timestamp: paid_at
    retention: 365d
    fields:
      - {column: phone, role: identifier}
      - {column: order_id, role: property}
      - {column: amount, role: property, kind: amount}
  - name: web
    format: csv
    path: data/web.csv
    key: [visit_id]
    event_type: page_view
    timestamp: at
    fields:
      - {column: device, role: identifier, name: device_id}
      - {column: phone, role: identifier}
      - {column: visit_id, role: property}
  - name: consent
    format: csv
    path: data/consent.csv
    key: [consent_id]
    event_type: consent_change
    timestamp: at
    fields:
      - {column: phone, role: identifier}
      - {column: consent_id, role: property}
      - {column: purpose, role: property}
      - {column: granted, role: property, kind: boolean}
      - {column: guardian, role: property, kind: boolean}
      - {column: evidence, role: property}
"""

# Valid 居民身份证 numbers (check digits by the standard's rule); 110105201506010016 is a child born 2015.
ZHANG_ID, MINOR_ID, ZHAO_ID = "11010519491231002X", "110105201506010016", "110105199003071239"
CRM = (
    "客户编号,姓名,手机号,身份证号,邮箱,地址,银行卡,更新时间\n"
    f"C001,张伟,138 1234 5678,{ZHANG_ID},zhang.wei@example.com,北京市朝阳区建国路88号,6222020200112233445,2024-03-01 10:00:00\n"
    "C002,李娜,13900001111,,li.na@example.com,上海市浦东新区张江路1号,,2024-03-02 09:30:00\n"
    f"C003,王小明,13700002222,{MINOR_ID},,广东省深圳市南山区科技园,,2024-03-03 12:00:00\n"
    f"C004,赵强,13600003333,{ZHAO_ID},,浙江省杭州市西湖区文三路,,2024-03-04 08:00:00\n"
    "C006,张伟,13812345678,110105194912310021,,北京市朝阳区,,2024-03-05 08:00:00\n"  # bad check digit: quarantined
)
ORDERS = (
    "order_id,phone,amount,paid_at\n"
    "O1,13812345678,¥128.00,2023-01-10 10:00:00\n"
    "O2,13812345678,¥56.50,2024-05-01 10:00:00\n"
    "O3,13900001111,¥9.90,2024-05-02 10:00:00\n"
)
WEB = (
    "visit_id,device,phone,at\n"
    "V1,dev-zhang-tablet,13812345678,2024-04-01 10:00:00\n"
    "V2,dev-zhang-tablet,,2024-04-02 10:00:00\n"  # linked to 张伟 only through the device
    "V3,dev-li-phone,13900001111,2024-04-03 10:00:00\n"
)
# Deliberately out of time order: the latest decision must win, not the last line.
CONSENT = (
    "consent_id,phone,purpose,granted,guardian,evidence,at\n"
    "K2,13812345678,marketing_sms,否,,app-settings-2,2024-02-01 09:00:00\n"
    "K1,13812345678,marketing_sms,是,,signup-form-1,2024-01-01 09:00:00\n"
    "K3,13812345678,marketing_email,true,,signup-form-1,2024-02-02 09:00:00\n"
    "K4,13900001111,marketing_sms,yes,,signup-form-4,2024-01-05 09:00:00\n"
    "K5,13900001111,personalisation,no,,app-settings-5,2024-01-06 09:00:00\n"
    "K6,13700002222,marketing_sms,yes,no,signup-form-6,2024-01-07 09:00:00\n"
    "K7,13600003333,marketing_sms,yes,,signup-form-7,2024-01-08 09:00:00\n"
    "K8,13700002222,marketing_email,yes,yes,guardian-form-8,2024-01-09 09:00:00\n"
)
FILES = {"data/crm.csv": CRM, "data/orders.csv": ORDERS, "data/web.csv": WEB, "data/consent.csv": CONSENT}

#: Values that must never appear in the warehouse file in clear.
SECRETS = (
    "13812345678",
    "+8613812345678",
    "13900001111",
    "13700002222",
    ZHANG_ID,
    MINOR_ID,
    ZHAO_ID,
    "110105194912310021",
    "6222020200112233445",
    "zhang.wei@example.com",
)


@dataclass(frozen=True, slots=True)
class Shop:
    workspace: Workspace
    owner: Principal


@pytest.fixture
def shop(make_workspace: MakeWorkspace) -> Shop:
    """The shop's workspace, ingested; ``make_workspace`` closes it after the test."""
    workspace = make_workspace(SOURCES, FILES)
    ingest_all(workspace)
    return Shop(workspace, local_owner(workspace.key_file))


def warehouse_bytes(workspace: Workspace) -> bytes:
    """The warehouse file's raw bytes, read after closing it (so the write-ahead log is checkpointed)."""
    workspace.close()
    data = workspace.warehouse_path.read_bytes()
    wal = workspace.warehouse_path.with_suffix(".duckdb.wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


def as_role(role: str, name: str = "tester") -> Principal:
    """A principal with a role, for exercising read paths (registration is tested in test_access)."""
    return Principal(f"p-{role}", name, role)  # type: ignore[arg-type]


OpenResolvedShop = Callable[[], Shop]


@pytest.fixture(scope="module")
def resolved_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenResolvedShop]:
    """The shop ingested, resolved into persons and built into profiles (as of now), once per module;
    every call opens its own copy of that workspace."""
    template: list[Path] = []
    opened: list[Workspace] = []

    def make() -> Shop:
        if not template:
            root = tmp_path_factory.mktemp("resolved-template") / "ws"
            for relative, content in FILES.items():
                target = root / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(content, encoding="utf-8")
            workspace = Workspace.init(root, sources_yaml=SOURCES)
            ingest_all(workspace)
            resolve_identities(workspace)
            api.build(workspace)
            workspace.close()
            template.append(root)
        root = tmp_path_factory.mktemp("resolved") / "ws"
        shutil.copytree(template[0], root)
        workspace = Workspace.open(root)
        opened.append(workspace)
        return Shop(workspace, local_owner(workspace.key_file))

    yield make
    for workspace in opened:
        workspace.close()
