"""What customers told the shop: service tickets (xlsx), NPS surveys and referrals (CSV).

Tickets reach the person by phone or e-mail (sometimes an address seen nowhere else, so only a
name can link it); Excel being Excel, some phones are stored as numbers and most times as real
date cells. Survey answers carry one contact each, so a spoiled contact leaves nothing to link.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from huaxiang.demo import flaws
from huaxiang.demo.activity import Referral, SurveyAnswer, Ticket
from huaxiang.demo.formats import phone_variant, standard_time
from huaxiang.demo.records import Planter, SourceRecord, SourceTable, has_value, set_value
from huaxiang.demo.timeline import to_local

TICKET_COLUMNS = ("工单号", "客户姓名", "手机号", "邮箱", "类型", "评分", "内容", "创建时间")
SURVEY_COLUMNS = ("response_id", "phone", "email", "nps", "满意度", "意见", "submitted_at")
REFERRAL_COLUMNS = ("referral_id", "referrer_phone", "referee_phone", "referred_at")


def _unidentified(*columns: str) -> Callable[[SourceRecord], bool]:
    return lambda record: not any(record.values.get(c) for c in columns)


def _excel_time(rng: random.Random, seconds: int) -> object:
    moment = to_local(seconds)
    if rng.random() < 0.85:
        return moment
    return f"{moment.year}/{moment.month}/{moment.day} {moment:%H:%M}"


def build_tickets(rng: random.Random, tickets: tuple[Ticket, ...]) -> SourceTable:
    records: list[SourceRecord] = []
    per_day: dict[dt.date, int] = {}
    for ticket in tickets:
        person = ticket.person
        day = to_local(ticket.ts).date()
        per_day[day] = per_day.get(day, 0) + 1
        emails = (
            (person.ticket_email,) if person.ticket_email and rng.random() < 0.5 else ()
        ) or person.emails
        roll = rng.random()
        phone: object = None
        email = None
        if not emails or roll < 0.6 or roll >= 0.85:
            written = phone_variant(rng, rng.choice(person.phones), 0.15)
            phone = int(written) if written.isdigit() and rng.random() < 0.15 else written
        if emails and roll >= 0.6:
            email = rng.choice(emails)
        records.append(
            SourceRecord(
                {
                    "工单号": f"GD{day:%Y%m%d}{per_day[day]:04d}",
                    "客户姓名": person.name,
                    "手机号": phone,
                    "邮箱": email,
                    "类型": ticket.kind,
                    "评分": ticket.rating,
                    "内容": ticket.text,
                    "创建时间": _excel_time(rng, ticket.ts),
                },
                person.true_id,
            )
        )
    planter = Planter(rng, records)

    def strip_ids(r: SourceRecord) -> None:
        r.values["手机号"] = r.values["邮箱"] = None

    planter.plant(0.01, "no_identifier", strip_ids, quarantine=True)
    planter.plant(
        0.01,
        "invalid_phone",
        set_value("手机号", lambda v: flaws.invalid_phone(rng, v)),
        quarantine=_unidentified("邮箱"),
        eligible=has_value("手机号"),
    )
    planter.plant(
        0.01,
        "invalid_email",
        set_value("邮箱", lambda v: flaws.invalid_email(rng, v)),
        quarantine=_unidentified("手机号"),
        eligible=has_value("邮箱"),
    )
    planter.plant(
        0.005,
        "unparseable_timestamp",
        set_value("创建时间", lambda _: flaws.unparseable_time(rng)),
        quarantine=True,
    )
    planter.plant(
        0.005,
        "future_timestamp",
        set_value("创建时间", lambda _: to_local(flaws.future_time(rng))),
        quarantine=True,
    )
    planter.plant(
        0.04,
        "name_typo",
        set_value("客户姓名", lambda v: flaws.typo(rng, str(v))),
        quarantine=False,
        eligible=lambda r: flaws.can_typo(str(r.values["客户姓名"])),
    )
    planter.plant(0.03, "missing_value", set_value("客户姓名", lambda _: None), quarantine=False)
    planter.duplicate(0.01)
    planter.garbage(
        [{"工单号": "以下为测试数据，请勿处理"} for _ in range(max(1, round(len(records) * 0.003)))]
    )
    return SourceTable("service_tickets", TICKET_COLUMNS, ("工单号",), planter.finish())


def build_surveys(rng: random.Random, answers: tuple[SurveyAnswer, ...]) -> SourceTable:
    records: list[SourceRecord] = []
    for number, answer in enumerate(answers, start=1):
        person = answer.person
        use_email = bool(person.emails) and rng.random() < 0.4
        moment = to_local(answer.ts)
        records.append(
            SourceRecord(
                {
                    "response_id": f"R{number:06d}",
                    "phone": None if use_email else phone_variant(rng, rng.choice(person.phones), 0.1),
                    "email": rng.choice(person.emails) if use_email else None,
                    "nps": answer.nps,
                    "满意度": answer.score,
                    "意见": answer.comment,
                    "submitted_at": standard_time(answer.ts)
                    if rng.random() < 0.7
                    else f"{moment:%Y-%m-%dT%H:%M:%S}+08:00",
                },
                person.true_id,
            )
        )
    planter = Planter(rng, records)

    def strip_ids(r: SourceRecord) -> None:
        r.values["phone"] = r.values["email"] = None

    planter.plant(0.01, "no_identifier", strip_ids, quarantine=True)
    planter.plant(
        0.015,
        "invalid_phone",
        set_value("phone", lambda v: flaws.invalid_phone(rng, v)),
        quarantine=_unidentified("email"),
        eligible=has_value("phone"),
    )
    planter.plant(
        0.015,
        "invalid_email",
        set_value("email", lambda v: flaws.invalid_email(rng, v)),
        quarantine=_unidentified("phone"),
        eligible=has_value("email"),
    )
    planter.plant(
        0.005,
        "unparseable_timestamp",
        set_value("submitted_at", lambda _: flaws.unparseable_time(rng)),
        quarantine=True,
    )
    planter.plant(
        0.005,
        "future_timestamp",
        set_value("submitted_at", lambda _: standard_time(flaws.future_time(rng))),
        quarantine=True,
    )
    planter.duplicate(0.02)
    planter.garbage([dict.fromkeys(SURVEY_COLUMNS, "") for _ in range(max(1, round(len(records) * 0.003)))])
    return SourceTable("surveys", SURVEY_COLUMNS, ("response_id",), planter.finish())


def build_referrals(rng: random.Random, referrals: tuple[Referral, ...]) -> SourceTable:
    records = [
        SourceRecord(
            {
                "referral_id": f"RF{number:05d}",
                "referrer_phone": rng.choice(r.referrer.phones),
                "referee_phone": r.referee.phones[0],
                "referred_at": standard_time(r.ts),
            },
            r.referrer.true_id,
        )
        for number, r in enumerate(referrals, start=1)
    ]
    planter = Planter(rng, records)
    planter.plant(
        0.015,
        "invalid_phone",
        set_value("referrer_phone", lambda v: flaws.invalid_phone(rng, v)),
        quarantine=True,
    )
    planter.plant(
        0.015,
        "invalid_referee_phone",
        set_value("referee_phone", lambda v: flaws.invalid_phone(rng, v)),
        quarantine=False,
    )
    planter.plant(0.01, "missing_timestamp", set_value("referred_at", lambda _: None), quarantine=True)
    planter.duplicate(0.02)
    planter.garbage(
        [
            {
                "referral_id": "referral_id",
                "referrer_phone": "referrer_phone",
                "referee_phone": "referee_phone",
                "referred_at": "referred_at",
            }
        ]
    )
    return SourceTable("referrals", REFERRAL_COLUMNS, ("referral_id",), planter.finish())
