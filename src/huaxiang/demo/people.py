"""The demo's true persons: latent traits, contact points and the hard cases for identity.

Households share an address and sometimes a family tablet; namesakes share a common name and a
city. Every other identifier (phone, e-mail, ID number, device, account) belongs to one person
only, which the generator enforces with registries of values already handed out.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from faker import Faker
from pypinyin import lazy_pinyin
from stdnum.cn import ric

from huaxiang.demo.catalog import CATEGORIES
from huaxiang.demo.places import City, District, Store, cities, id_region_code, stores, street_address
from huaxiang.demo.timeline import CHURN_QUIET_DAYS, DAY, HISTORY_START, NOW, local_seconds, to_local


@dataclass(frozen=True, slots=True)
class Segment:
    """A latent customer segment and the behaviour it drives."""

    key: str
    zh: str
    en: str
    share: float
    orders_per_month: float
    satisfaction: tuple[float, float]  # Beta(a, b)
    churn_rate: float
    online_share: float
    mean_age: float


SEGMENTS: tuple[Segment, ...] = (
    Segment("loyal", "高价值忠诚", "loyal_high_value", 0.15, 1.3, (8, 2), 0.03, 0.55, 40),
    Segment("price", "价格敏感", "price_sensitive", 0.25, 1.0, (5, 4), 0.10, 0.65, 35),
    Segment("new", "新客", "new_customer", 0.15, 0.9, (6, 3), 0.0, 0.6, 29),
    Segment("risk", "流失风险", "at_risk", 0.15, 0.7, (2.5, 5), 0.55, 0.5, 37),
    Segment("occasional", "偶尔光顾", "occasional", 0.30, 0.2, (4, 4), 0.08, 0.5, 38),
)

COMMON_NAMES = {
    "男": ("王伟", "张伟", "李伟", "刘伟", "李强", "王磊", "张勇", "王勇", "李军", "张磊"),
    "女": ("李娜", "王芳", "张敏", "王静", "李静", "张丽", "王秀英", "李秀英", "刘芳", "张静"),
}
_MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "147",
    "150",
    "151",
    "152",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "173",
    "175",
    "176",
    "177",
    "178",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
)
_MAIL_DOMAINS = (
    ("qq.com", 30),
    ("163.com", 20),
    ("126.com", 8),
    ("sina.com", 5),
    ("gmail.com", 6),
    ("outlook.com", 6),
    ("foxmail.com", 5),
    ("139.com", 5),
    ("hotmail.com", 4),
    ("yeah.net", 3),
    ("sohu.com", 3),
    ("aliyun.com", 3),
    ("icloud.com", 2),
)
_LEVELS = ("普通会员", "银卡会员", "金卡会员", "钻石会员")
_OPENID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@dataclass(frozen=True, slots=True)
class Person:
    """One true person with latent traits and every contact point the sources may show."""

    true_id: str
    name: str
    gender: str  # 男 | 女
    birth_date: dt.date
    id_card: str
    city: City
    district: District
    address: str
    previous_address: str | None  # an older address a CRM row may still show
    phones: tuple[str, ...]  # first is the current one
    emails: tuple[str, ...]
    ticket_email: str | None  # an address used only when writing to customer service
    devices: tuple[str, ...]
    user_id: str | None
    crm_id: str | None
    wechat_openid: str | None
    segment: Segment
    satisfaction: float
    churned_at: int | None  # local seconds of the last purchase of a planted churner
    preferred_channel: str  # online | store
    preferred_categories: tuple[str, ...]
    first_seen: int  # local seconds of registration
    member_level: str | None
    household: str | None
    home_store: Store

    @property
    def churner(self) -> bool:
        return self.churned_at is not None

    @property
    def active_until(self) -> int:
        return self.churned_at if self.churned_at is not None else NOW


@dataclass(frozen=True, slots=True)
class Population:
    """All true persons plus the planted shared devices (device → persons using it)."""

    persons: tuple[Person, ...]
    shared_devices: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(slots=True)
class _Draft:
    """A person while households and namesakes are still being wired; frozen into Person."""

    segment: Segment
    gender: str
    age: float
    surname: str = ""
    name: str = ""
    city: City | None = None
    district: District | None = None
    address: str = ""
    online: bool = False
    has_account: bool = False
    member: bool = False
    household: str | None = None
    devices: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Registry:
    """Values already given to someone, so no identifier is handed out twice."""

    taken: set[str] = field(default_factory=set)

    def claim(self, make: Callable[[], str]) -> str:
        while (value := make()) in self.taken:
            pass
        self.taken.add(value)
        return value


def _weighted(rng: random.Random, items: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([i for i, _ in items], weights=[w for _, w in items])[0]


def _phone(rng: random.Random) -> str:
    return rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _email_maker(rng: random.Random, surname: str, given: str, birth: dt.date) -> Callable[[], str]:
    sur = "".join(lazy_pinyin(surname))
    giv = "".join(lazy_pinyin(given))
    initials = "".join(p[0] for p in lazy_pinyin(given))

    def make() -> str:
        domain = _weighted(rng, _MAIL_DOMAINS)
        style = rng.random()
        if domain == "qq.com" and style < 0.6:
            return f"{rng.randrange(10**5, 10**10)}@qq.com"
        if style < 0.3:
            local = f"{sur}{giv}{rng.choice(('', str(birth.year), f'{birth.year % 100:02d}', str(rng.randint(1, 999))))}"
        elif style < 0.5:
            local = f"{giv}.{sur}{rng.choice(('', str(rng.randint(1, 99))))}"
        elif style < 0.75:
            local = f"{sur}{initials}{birth.month:02d}{birth.day:02d}"
        else:
            local = f"{sur}_{giv}{rng.randint(1, 9999)}"
        return f"{local}@{domain}"

    return make


def _id_card(rng: random.Random, person: _Draft, birth: dt.date) -> Callable[[], str]:
    assert person.city is not None and person.district is not None

    def make() -> str:
        region = id_region_code(person.city, person.district, birth.year, rng)  # type: ignore[arg-type]
        order = rng.randrange(50) * 2 + (1 if person.gender == "男" else 0)
        body = f"{region}{birth:%Y%m%d}{rng.randrange(10)}{order:02d}"
        return body + ric.calc_check_digit(body + "0")

    return make


def _plan_households(rng: random.Random, drafts: list[_Draft]) -> list[list[int]]:
    """Group a few consecutive persons into households of two or three."""
    households: list[list[int]] = []
    i = 0
    while i < len(drafts) - 2:
        if rng.random() < 0.05:
            size = 2 if rng.random() < 0.7 else 3
            households.append(list(range(i, i + size)))
            i += size
        else:
            i += 1
    return households


def generate_people(count: int, seed: int) -> Population:
    """``count`` persons with traits, households, namesakes and unique identifiers."""
    rng = random.Random(f"{seed}:people")
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    city_list = cities()
    city_weights = [c.weight for c in city_list]
    store_list = stores()

    drafts: list[_Draft] = []
    for _ in range(count):
        segment = rng.choices(SEGMENTS, weights=[s.share for s in SEGMENTS])[0]
        age = min(75.0, max(18.0, rng.gauss(segment.mean_age, 10)))
        draft = _Draft(segment, rng.choice(("男", "女")), age)
        draft.surname = fake.last_name()
        draft.city = rng.choices(city_list, weights=city_weights)[0]
        draft.district = rng.choice(draft.city.districts)
        draft.online = rng.random() < segment.online_share
        draft.has_account = draft.online or rng.random() < 0.3
        draft.member = rng.random() < (0.8 if not draft.online else 0.4) + (
            0.15 if segment.key == "loyal" else 0
        )
        drafts.append(draft)

    devices = _Registry()

    def new_device() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    shared: list[tuple[str, tuple[int, ...]]] = []
    for number, members in enumerate(_plan_households(rng, drafts), start=1):
        head = drafts[members[0]]
        for position, index in enumerate(members):
            member = drafts[index]
            member.household = f"H{number:05d}"
            member.city, member.district = head.city, head.district
            if position == 1 and rng.random() < 0.7:  # a spouse keeps their own surname
                member.gender = "女" if head.gender == "男" else "男"
                member.age = min(75.0, max(18.0, head.age + rng.uniform(-5, 5)))
            elif position >= 1:  # a grown-up child
                head.age = max(head.age, 45.0 + rng.uniform(0, 20))
                member.age = max(18.0, head.age - rng.uniform(22, 32))
                member.surname = head.surname
        address = street_address(head.city, head.district, rng)  # type: ignore[arg-type]
        for index in members:
            drafts[index].address = address
        if rng.random() < 0.5:
            tablet = devices.claim(new_device)
            shared.append((tablet, tuple(members)))
            for index in members:
                drafts[index].has_account = True
                drafts[index].devices.append(tablet)

    for draft in drafts:
        given = fake.first_name_male() if draft.gender == "男" else fake.first_name_female()
        draft.name = draft.surname + given

    loners = [i for i, d in enumerate(drafts) if d.household is None]
    pair_count = max(2, round(count * 0.006))
    picked = rng.sample(loners, min(len(loners) // 2 * 2, pair_count * 2))
    for a, b in zip(picked[::2], picked[1::2], strict=True):
        first, second = drafts[a], drafts[b]
        second.gender = first.gender
        second.city = first.city
        second.district = rng.choice(first.city.districts)  # type: ignore[union-attr]
        first.name = second.name = rng.choice(COMMON_NAMES[first.gender])
        first.surname = second.surname = first.name[0]

    return Population(
        _freeze(drafts, rng, devices, store_list, new_device),
        tuple((d, tuple(f"P{i + 1:06d}" for i in idx)) for d, idx in shared),
    )


def _freeze(
    drafts: list[_Draft],
    rng: random.Random,
    devices: _Registry,
    store_list: tuple[Store, ...],
    new_device: Callable[[], str],
) -> tuple[Person, ...]:
    phones, emails, ids, accounts, openids = _Registry(), _Registry(), _Registry(), _Registry(), _Registry()
    categories = tuple(CATEGORIES)
    today = to_local(NOW).date()
    joined: list[int] = []
    persons: list[Person] = []
    for index, draft in enumerate(drafts):
        assert draft.city is not None and draft.district is not None
        segment = draft.segment
        birth = today - dt.timedelta(days=int(draft.age * 365.25) + rng.randrange(365))
        churned_at: int | None = None
        if rng.random() < segment.churn_rate:
            churned_at = NOW - rng.randint(CHURN_QUIET_DAYS + 5, 330) * DAY - rng.randrange(DAY)
        if segment.key == "new":
            first_seen = NOW - rng.randint(10, 115) * DAY
        elif rng.random() < 0.5:
            first_seen = rng.randint(local_seconds(dt.datetime(2019, 1, 1)), HISTORY_START)
        else:
            first_seen = rng.randint(HISTORY_START, NOW - 150 * DAY)
        if churned_at is not None:
            first_seen = min(first_seen, churned_at - rng.randint(60, 400) * DAY)
        satisfaction = rng.betavariate(*segment.satisfaction)
        if churned_at is not None:
            satisfaction = min(satisfaction, rng.betavariate(2, 5))
        given = draft.name[len(draft.surname) :]
        mail = _email_maker(rng, draft.surname, given, birth)
        n_phones = rng.choices((1, 2, 3), weights=(70, 25, 5))[0]
        n_mails = rng.choices((0, 1, 2), weights=(30, 55, 15))[0]
        n_devices = max(0, rng.choices((1, 2, 3), weights=(50, 35, 15))[0] - len(draft.devices))
        weights = [
            3.0
            if draft.gender == "女" and c in ("美妆个护", "服饰鞋包", "母婴用品")
            else 2.0
            if draft.gender == "男" and c in ("手机数码", "运动户外")
            else 1.0
            for c in categories
        ]
        preferred: list[str] = []
        for _ in range(rng.choices((1, 2, 3), weights=(30, 45, 25))[0]):
            pick = rng.choices(categories, weights=weights)[0]
            if pick not in preferred:
                preferred.append(pick)
        city_stores = [s for s in store_list if s.city == draft.city.name]
        address = draft.address or street_address(draft.city, draft.district, rng)
        moved = draft.member and draft.household is None and rng.random() < 0.1
        level = None
        if draft.member:
            level = rng.choices(
                _LEVELS, weights=(5, 20, 45, 30) if segment.key == "loyal" else (60, 28, 10, 2)
            )[0]
        persons.append(
            Person(
                true_id=f"P{index + 1:06d}",
                name=draft.name,
                gender=draft.gender,
                birth_date=birth,
                id_card=ids.claim(_id_card(rng, draft, birth)),
                city=draft.city,
                district=draft.district,
                address=address,
                previous_address=street_address(draft.city, rng.choice(draft.city.districts), rng)
                if moved
                else None,
                phones=tuple(phones.claim(lambda: _phone(rng)) for _ in range(n_phones)),
                emails=tuple(emails.claim(mail) for _ in range(n_mails)),
                ticket_email=emails.claim(mail) if rng.random() < 0.12 else None,
                devices=tuple(draft.devices) + tuple(devices.claim(new_device) for _ in range(n_devices)),
                user_id=accounts.claim(lambda: f"U{rng.randrange(10**7, 10**8)}")
                if draft.has_account
                else None,
                crm_id=None,
                wechat_openid=(
                    openids.claim(lambda: "o" + "".join(rng.choices(_OPENID_ALPHABET, k=27)))
                    if draft.has_account and rng.random() < 0.35
                    else None
                ),
                segment=segment,
                satisfaction=satisfaction,
                churned_at=churned_at,
                preferred_channel="online" if draft.online else "store",
                preferred_categories=tuple(preferred),
                first_seen=first_seen,
                member_level=level,
                household=draft.household,
                home_store=rng.choice(city_stores) if city_stores else rng.choice(store_list),
            )
        )
        if draft.member:
            joined.append(index)
    return _number_members(persons, joined, rng)


def _number_members(persons: list[Person], members: list[int], rng: random.Random) -> tuple[Person, ...]:
    """Give CRM members card numbers in the order they joined, with the gaps real systems have."""
    number = 1_000_000
    for index in sorted(members, key=lambda i: (persons[i].first_seen, i)):
        number += rng.randint(1, 3)
        persons[index] = replace(persons[index], crm_id=f"C{number}")
    return tuple(persons)
