"""The CRM export (``crm_customers.csv``): one row per member, plus a newer row when one changed.

Rows follow the shop's habits: Chinese headers, gender as 男/女, M/F or 1/0, birth dates in
whichever format a clerk used, registration times in several formats; the update time, part of
the record key, is always written the standard way so keys compare as text.
"""

from __future__ import annotations

import random

from huaxiang.demo import flaws
from huaxiang.demo.formats import birth_date_variant, phone_variant, register_time_variant, standard_time
from huaxiang.demo.people import Person, Population
from huaxiang.demo.records import Planter, SourceRecord, SourceTable, has_value, set_value
from huaxiang.demo.timeline import DAY, HISTORY_START, NOW

COLUMNS = (
    "客户编号",
    "姓名",
    "手机号",
    "邮箱",
    "身份证号",
    "性别",
    "出生日期",
    "地址",
    "会员等级",
    "注册时间",
    "更新时间",
)
KEY = ("客户编号", "更新时间")


def _gender(rng: random.Random, gender: str) -> str:
    roll = rng.random()
    if roll < 0.6:
        return gender
    if roll < 0.8:
        return "M" if gender == "男" else "F"
    return "1" if gender == "男" else "0"


def _row(rng: random.Random, person: Person, phone: str, address: str, updated: int) -> dict[str, object]:
    id_card: str | None = person.id_card if rng.random() < 0.85 else None
    if id_card and id_card.endswith("X") and rng.random() < 0.3:
        id_card = id_card[:-1] + "x"
    return {
        "客户编号": person.crm_id,
        "姓名": person.name,
        "手机号": phone_variant(rng, phone, 0.2),
        "邮箱": person.emails[0] if person.emails and rng.random() < 0.6 else None,
        "身份证号": id_card,
        "性别": _gender(rng, person.gender),
        "出生日期": birth_date_variant(rng, person.birth_date),
        "地址": address,
        "会员等级": person.member_level,
        "注册时间": register_time_variant(rng, person.first_seen),
        "更新时间": standard_time(updated),
    }


def build_crm(rng: random.Random, population: Population) -> SourceTable:
    records: list[SourceRecord] = []
    members = sorted((p for p in population.persons if p.crm_id), key=lambda p: str(p.crm_id))
    for person in members:
        updated = rng.randint(max(person.first_seen, HISTORY_START - 200 * DAY), NOW - DAY)
        changed_phone = len(person.phones) > 1 and rng.random() < 0.25
        if person.previous_address or changed_phone:
            earlier = rng.randint(min(person.first_seen, updated - DAY), updated - DAY)
            old_phone = person.phones[1] if changed_phone else person.phones[0]
            old = _row(rng, person, old_phone, person.previous_address or person.address, earlier)
            records.append(SourceRecord(old, person.true_id))
        records.append(
            SourceRecord(_row(rng, person, person.phones[0], person.address, updated), person.true_id)
        )
    return SourceTable("crm", COLUMNS, KEY, _plant(rng, records))


def _plant(rng: random.Random, records: list[SourceRecord]) -> list[SourceRecord]:
    planter = Planter(rng, records)
    for column in ("手机号", "性别", "出生日期", "地址"):
        planter.plant(
            0.015,
            "missing_value",
            set_value(column, lambda _: None),
            quarantine=False,
            eligible=has_value(column),
        )

    def broken_address(r: SourceRecord) -> None:
        text = str(r.values["地址"])
        cut = text.find("区") + 1 or len(text) // 2
        r.values["地址"] = text[:cut] + "\n" + text[cut:]

    planter.plant(
        0.02,
        "invalid_phone",
        set_value("手机号", lambda v: flaws.invalid_phone(rng, v)),
        quarantine=False,
        eligible=has_value("手机号"),
    )
    planter.plant(
        0.015,
        "invalid_email",
        set_value("邮箱", lambda v: flaws.invalid_email(rng, v)),
        quarantine=False,
        eligible=has_value("邮箱"),
    )
    planter.plant(
        0.015,
        "invalid_id_card",
        set_value("身份证号", lambda v: flaws.invalid_id_card(rng, v)),
        quarantine=True,
        eligible=has_value("身份证号"),
    )
    planter.plant(
        0.03,
        "name_typo",
        set_value("姓名", lambda v: flaws.typo(rng, str(v))),
        quarantine=False,
        eligible=lambda r: flaws.can_typo(str(r.values["姓名"])),
    )
    planter.plant(0.02, "embedded_newline", broken_address, quarantine=False, eligible=has_value("地址"))
    planter.plant(
        0.005,
        "unparseable_timestamp",
        set_value("更新时间", lambda _: flaws.unparseable_time(rng)),
        quarantine=True,
    )
    planter.plant(
        0.005,
        "future_timestamp",
        set_value("更新时间", lambda _: standard_time(flaws.future_time(rng))),
        quarantine=True,
    )
    planter.duplicate(0.015)
    header: dict[str, object] = dict(zip(COLUMNS, COLUMNS, strict=True))
    blank: dict[str, object] = dict.fromkeys(COLUMNS)
    planter.garbage([header if i % 2 == 0 else blank for i in range(max(2, round(len(records) * 0.003)))])
    return planter.finish()
