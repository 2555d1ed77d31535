"""Order lines from the web shop (``online_orders.jsonl``) and the store tills (``pos_orders.csv``).

Online lines always carry the account (``user_id``) and sometimes the phone or e-mail typed at
checkout; till lines carry the phone given for points and, for members, the card number. A line
is bad when nothing identifies its buyer, its time cannot be read or lies in the future, or its
amount is blank; a negative amount is only flagged (a refund written the wrong way round).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from huaxiang.demo import flaws
from huaxiang.demo.activity import Order
from huaxiang.demo.formats import iso_time_variant, phone_variant, till_time_variant, yuan_online, yuan_till
from huaxiang.demo.records import Planter, SourceRecord, SourceTable, has_value, set_value
from huaxiang.demo.timeline import NOW, to_local

ONLINE_COLUMNS = (
    "order_id",
    "line_no",
    "user_id",
    "phone",
    "email",
    "wechat_openid",
    "sku",
    "category",
    "quantity",
    "price",
    "paid_at",
    "channel",
    "status",
)
ONLINE_KEY = ("order_id", "line_no")
POS_COLUMNS = (
    "小票号",
    "行号",
    "门店",
    "手机号",
    "会员卡号",
    "商品编码",
    "商品",
    "品类",
    "数量",
    "金额",
    "交易时间",
)
POS_KEY = ("小票号", "行号")


def _unidentified(*columns: str) -> Callable[[SourceRecord], bool]:
    """Quarantine when none of ``columns`` still holds a value."""
    return lambda record: not any(record.values.get(c) for c in columns)


def build_online_orders(rng: random.Random, orders: tuple[Order, ...]) -> SourceTable:
    records: list[SourceRecord] = []
    number = 0
    for order in orders:
        if order.app is None:
            continue
        number += 1
        person = order.person
        head: dict[str, object] = {"order_id": f"O{number:06d}", "user_id": person.user_id}
        if rng.random() < 0.35:
            head["phone"] = phone_variant(rng, rng.choice(person.phones), 0.1)
        if person.emails and rng.random() < 0.15:
            head["email"] = rng.choice(person.emails)
        if order.app == "mini-program" and rng.random() < 0.8:
            head["wechat_openid"] = person.wechat_openid
        paid_at = iso_time_variant(rng, order.ts)
        for line_no, line in enumerate(order.lines, start=1):
            values = dict(head)
            values.update(
                line_no=line_no,
                sku=line.sku.sku,
                category=line.sku.category,
                quantity=line.quantity,
                price=yuan_online(line.unit_price),
                paid_at=paid_at,
                channel=order.app,
                status=order.status,
            )
            records.append(
                SourceRecord({c: values[c] for c in ONLINE_COLUMNS if c in values}, person.true_id)
            )
    planter = Planter(rng, records)
    ids = ("user_id", "phone", "email", "wechat_openid")

    def strip_ids(r: SourceRecord) -> None:
        for column in ids:
            r.values.pop(column, None)

    def drop_category(r: SourceRecord) -> None:
        del r.values["category"]

    def negate(r: SourceRecord) -> None:
        r.values["price"] = "-" + str(r.values["price"])

    planter.plant(0.01, "no_identifier", strip_ids, quarantine=True)
    planter.plant(
        0.01,
        "invalid_phone",
        set_value("phone", lambda v: flaws.invalid_phone(rng, v)),
        quarantine=_unidentified("user_id", "email", "wechat_openid"),
        eligible=has_value("phone"),
    )
    planter.plant(
        0.01,
        "invalid_email",
        set_value("email", lambda v: flaws.invalid_email(rng, v)),
        quarantine=_unidentified("user_id", "phone", "wechat_openid"),
        eligible=has_value("email"),
    )
    planter.plant(
        0.005,
        "unparseable_timestamp",
        set_value("paid_at", lambda _: flaws.unparseable_time(rng)),
        quarantine=True,
    )
    planter.plant(
        0.005,
        "future_timestamp",
        set_value("paid_at", lambda _: iso_time_variant(rng, flaws.future_time(rng))),
        quarantine=True,
    )
    planter.plant(
        0.006, "missing_amount", set_value("price", lambda _: rng.choice(("", None))), quarantine=True
    )
    planter.plant(0.006, "negative_amount", negate, quarantine=False)
    planter.plant(0.01, "missing_value", drop_category, quarantine=False)
    planter.duplicate(0.015)
    stamp = to_local(NOW).strftime("%Y-%m-%dT%H:%M:%S+08:00")
    garbage: list[dict[str, object]] = []
    for i in range(max(2, round(len(records) * 0.002))):
        if i % 2 == 0:
            garbage.append({"type": "heartbeat", "paid_at": stamp})
        else:
            garbage.append(
                {
                    "order_id": f"TEST-{i:04d}",
                    "line_no": 1,
                    "sku": "TEST",
                    "quantity": 1,
                    "price": "¥0.00",
                    "paid_at": stamp,
                    "channel": "web",
                    "status": "test",
                }
            )
    planter.garbage(garbage)
    return SourceTable("online_orders", (*ONLINE_COLUMNS, "type"), ONLINE_KEY, planter.finish())


def build_pos_orders(rng: random.Random, orders: tuple[Order, ...]) -> SourceTable:
    records: list[SourceRecord] = []
    receipts: dict[tuple[str, str], int] = {}
    for order in orders:
        if order.store is None:
            continue
        person = order.person
        day = f"{to_local(order.ts):%Y%m%d}"
        seq = receipts[order.store.code, day] = receipts.get((order.store.code, day), 0) + 1
        card = person.crm_id if person.crm_id and rng.random() < 0.9 else None
        phone = None
        if card is None or rng.random() < 0.5:
            phone = phone_variant(rng, rng.choice(person.phones), 0.3)
        when = till_time_variant(rng, order.ts)
        for line_no, line in enumerate(order.lines, start=1):
            records.append(
                SourceRecord(
                    {
                        "小票号": f"{order.store.code}{day}{seq:04d}",
                        "行号": line_no,
                        "门店": order.store.name,
                        "手机号": phone,
                        "会员卡号": card,
                        "商品编码": line.sku.sku,
                        "商品": line.sku.name,
                        "品类": line.sku.category,
                        "数量": line.quantity,
                        "金额": yuan_till(rng, line.quantity * line.unit_price),
                        "交易时间": when,
                    },
                    person.true_id,
                )
            )
    planter = Planter(rng, records)

    def strip_ids(r: SourceRecord) -> None:
        r.values["手机号"] = r.values["会员卡号"] = None

    def negate(r: SourceRecord) -> None:
        r.values["金额"] = "-" + str(r.values["金额"])

    planter.plant(0.01, "no_identifier", strip_ids, quarantine=True)
    planter.plant(
        0.015,
        "invalid_phone",
        set_value("手机号", lambda v: flaws.invalid_phone(rng, v)),
        quarantine=_unidentified("会员卡号"),
        eligible=has_value("手机号"),
    )
    planter.plant(
        0.005,
        "unparseable_timestamp",
        set_value("交易时间", lambda _: flaws.unparseable_time(rng)),
        quarantine=True,
    )
    planter.plant(
        0.005,
        "future_timestamp",
        set_value("交易时间", lambda _: till_time_variant(rng, flaws.future_time(rng))),
        quarantine=True,
    )
    planter.plant(0.006, "missing_amount", set_value("金额", lambda _: None), quarantine=True)
    planter.plant(0.006, "negative_amount", negate, quarantine=False)
    planter.plant(0.01, "missing_value", set_value("品类", lambda _: None), quarantine=False)
    planter.duplicate(0.015)
    garbage: list[dict[str, object]] = [
        {"小票号": "合计", "金额": f"{rng.uniform(1e4, 1e6):,.2f}"} if i % 2 == 0 else {"小票号": "--------"}
        for i in range(max(2, round(len(records) * 0.002)))
    ]
    planter.garbage(garbage)
    return SourceTable("pos_orders", POS_COLUMNS, POS_KEY, planter.finish())
