"""What the true persons actually did: orders, browsing, tickets, surveys and referrals.

Behaviour is simulated once, cleanly, from the latent traits; the source writers then show it
through each system's own columns and flaws. Purchases are a Poisson process per person whose
rate comes from the segment; at-risk customers slow down and planted churners stop at
``churned_at``, at least 120 days before the reference date.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
from dataclasses import dataclass

from huaxiang.demo.catalog import Sku, category_slug
from huaxiang.demo.people import Person, Population
from huaxiang.demo.places import Store, stores
from huaxiang.demo.texts import Tone, choose_tone, rating_for, survey_comment, ticket_text
from huaxiang.demo.timeline import DAY, HISTORY_START, NOW, local_seconds

_MONTH = 30 * DAY
# cumulative weights of the hour of day (online peaks in the evening; stores open 10:00–22:00)
_ONLINE_HOURS = tuple(
    itertools.accumulate((1, 1, 0, 0, 0, 0, 1, 2, 3, 4, 5, 5, 6, 5, 5, 5, 5, 5, 6, 8, 10, 11, 9, 4))
)
_STORE_HOURS = tuple(itertools.accumulate((0,) * 10 + (4, 6, 7, 6, 5, 5, 6, 7, 8, 8, 7, 4, 0, 0)))
_LINE_COUNTS = tuple(itertools.accumulate((60, 25, 10, 5)))
_BULK_QUANTITIES = tuple(itertools.accumulate((60, 25, 10, 5)))
_QUANTITIES = tuple(itertools.accumulate((90, 8, 2, 0)))
PURPOSES = ("marketing_sms", "marketing_email", "personalisation", "analytics", "third_party_sharing")
_CONSENT_ODDS = {
    "marketing_sms": 0.5,
    "marketing_email": 0.45,
    "personalisation": 0.7,
    "analytics": 0.9,
    "third_party_sharing": 0.15,
}
SURVEY_WAVES = tuple(
    local_seconds(dt.datetime(y, m, 15, 10))
    for y, m in ((2025, 1), (2025, 4), (2025, 7), (2025, 10), (2026, 1), (2026, 4), (2026, 7), (2026, 10))
)


@dataclass(frozen=True, slots=True)
class OrderLine:
    sku: Sku
    quantity: int
    unit_price: float


@dataclass(frozen=True, slots=True)
class Order:
    """A purchase: online (``app`` is app/web/mini-program) or in a store (``store`` is set)."""

    person: Person
    ts: int
    lines: tuple[OrderLine, ...]
    store: Store | None
    app: str | None
    status: str


@dataclass(frozen=True, slots=True)
class WebEvent:
    person: Person
    device: str
    user_id: str | None
    event: str
    ts: int
    page: str
    sku: str | None = None
    category: str | None = None
    query: str | None = None
    purpose: str | None = None
    granted: bool | None = None


@dataclass(frozen=True, slots=True)
class Ticket:
    person: Person
    ts: int
    kind: str  # 投诉 | 咨询 | 评价 | 退换货
    rating: int | None
    text: str
    tone: Tone


@dataclass(frozen=True, slots=True)
class SurveyAnswer:
    person: Person
    ts: int
    nps: int
    score: int
    comment: str | None


@dataclass(frozen=True, slots=True)
class Referral:
    referrer: Person
    referee: Person
    ts: int


@dataclass(frozen=True, slots=True)
class Activity:
    """Everything that happened, each list in time order."""

    orders: tuple[Order, ...]
    events: tuple[WebEvent, ...]
    tickets: tuple[Ticket, ...]
    surveys: tuple[SurveyAnswer, ...]
    referrals: tuple[Referral, ...]


def _draw(rng: random.Random, cumulative: tuple[int, ...]) -> int:
    """An index drawn with the given cumulative weights (``random.choices`` re-adds them per call)."""
    return bisect.bisect_right(cumulative, rng.random() * cumulative[-1])


def _at_hour(rng: random.Random, moment: int, hours: tuple[int, ...]) -> int:
    day = moment - moment % DAY
    return day + _draw(rng, hours) * 3600 + rng.randrange(3600)


def _poisson_times(rng: random.Random, start: int, end: int, per_month: float) -> list[int]:
    if per_month <= 0 or end <= start:
        return []
    times, t = [], float(start)
    while (t := t + rng.expovariate(per_month / _MONTH)) < end:
        times.append(int(t))
    return times


class _Shop:
    """Catalogue lookups used while simulating purchases."""

    def __init__(self, catalog: tuple[Sku, ...]) -> None:
        self.by_category: dict[str, list[Sku]] = {}
        for sku in sorted(catalog, key=lambda s: (s.price, s.sku)):
            self.by_category.setdefault(sku.category, []).append(sku)
        self.categories = tuple(self.by_category)

    def pick(self, rng: random.Random, person: Person) -> Sku:
        pool = rng.choice(person.preferred_categories) if rng.random() < 0.7 else rng.choice(self.categories)
        skus = self.by_category[pool]
        if person.segment.key == "price":
            skus = skus[: max(1, len(skus) // 2)]
        return rng.choice(skus)


def _lines(rng: random.Random, shop: _Shop, person: Person) -> tuple[OrderLine, ...]:
    lines: list[OrderLine] = []
    for _ in range(1 + _draw(rng, _LINE_COUNTS)):
        sku = shop.pick(rng, person)
        if any(line.sku == sku for line in lines):
            continue
        bulk = sku.category in ("食品生鲜", "图书文具", "母婴用品")
        quantity = (1, 2, 3, 5)[_draw(rng, _BULK_QUANTITIES if bulk else _QUANTITIES)]
        discount_odds = 0.5 if person.segment.key == "price" else 0.15
        price = sku.price
        if rng.random() < discount_odds:
            price = round(price * rng.choice((0.7, 0.75, 0.8, 0.85, 0.9)), 1)
        lines.append(OrderLine(sku, quantity, price))
    return tuple(lines)


def simulate_orders(rng: random.Random, population: Population, catalog: tuple[Sku, ...]) -> list[Order]:
    shop = _Shop(catalog)
    store_list = stores()
    orders: list[Order] = []
    for person in population.persons:
        start = max(HISTORY_START, person.first_seen)
        end = person.active_until
        rate = person.segment.orders_per_month * (1.4 if person.segment.key == "risk" else 1.0)
        times = _poisson_times(rng, start, end, rate)
        if person.segment.key == "risk" and not person.churner:  # slowing down towards the end
            times = [t for t in times if rng.random() < 1 - 0.65 * (t - start) / max(1, end - start)]
        if person.churned_at is not None:
            times.append(person.churned_at)
        for t in times:
            online = (rng.random() < 0.8) == (
                person.preferred_channel == "online"
            ) and person.user_id is not None
            ts = t if t == person.churned_at else _at_hour(rng, t, _ONLINE_HOURS if online else _STORE_HOURS)
            ts = min(ts, end)
            lines = _lines(rng, shop, person)
            if online:
                apps = ("mini-program", "app", "web") if person.wechat_openid else ("app", "web")
                weights = (45, 35, 20) if person.wechat_openid else (60, 40)
                app = rng.choices(apps, weights=weights)[0]
                orders.append(Order(person, ts, lines, None, app, _status(rng, person, ts)))
            else:
                store = person.home_store if rng.random() < 0.85 else rng.choice(store_list)
                orders.append(Order(person, ts, lines, store, None, "completed"))
    orders.sort(key=lambda o: (o.ts, o.person.true_id))
    return orders


def _status(rng: random.Random, person: Person, ts: int) -> str:
    if ts > NOW - 3 * DAY:
        return rng.choice(("paid", "shipped"))
    roll = rng.random()
    if roll < 0.02:
        return "cancelled"
    if roll < 0.04 + 0.08 * (1 - person.satisfaction):
        return "refunded"
    return "completed"


class _Session:
    """A browsing session on one device, anonymous until (maybe) a login."""

    def __init__(self, rng: random.Random, person: Person, start: int, logged_in: bool) -> None:
        self.rng, self.person, self.ts = rng, person, start
        self.device = rng.choice(person.devices)
        self.user_id = person.user_id if logged_in else None
        self.events: list[WebEvent] = []

    def add(
        self,
        event: str,
        page: str,
        *,
        sku: str | None = None,
        category: str | None = None,
        query: str | None = None,
        purpose: str | None = None,
        granted: bool | None = None,
    ) -> None:
        self.ts += self.rng.randint(5, 150)
        self.events.append(
            WebEvent(
                self.person,
                self.device,
                self.user_id,
                event,
                self.ts,
                page,
                sku,
                category,
                query,
                purpose,
                granted,
            )
        )

    def login(self) -> None:
        if self.person.user_id is not None and self.user_id is None:
            self.user_id = self.person.user_id
            self.add("login", "/login")

    def view(self, sku: Sku) -> None:
        self.add("page_view", f"/product/{sku.sku}", sku=sku.sku, category=sku.category)


def _open_session(rng: random.Random, person: Person, start: int, must_login: bool) -> tuple[_Session, bool]:
    """A session and whether it logs in part-way; accountless visitors stay anonymous."""
    if person.user_id is None:
        return _Session(rng, person, start, False), False
    roll = rng.random()
    if must_login:
        return _Session(rng, person, start, roll < 0.6), roll >= 0.6
    return _Session(rng, person, start, roll < 0.45), 0.45 <= roll < 0.7


def simulate_web(
    rng: random.Random, population: Population, orders: list[Order], catalog: tuple[Sku, ...]
) -> list[WebEvent]:
    """Browsing before each online order, casual browsing, and consent changes."""
    shop = _Shop(catalog)
    events: list[WebEvent] = []
    for order in orders:
        if order.app is None:
            continue
        session, midway = _open_session(rng, order.person, order.ts - rng.randint(300, 1800), True)
        if rng.random() < 0.5:
            session.add("search", "/search", query=_query(rng, order.lines[0].sku))
        else:
            session.add("page_view", "/")
        if midway:
            session.login()
        for line in order.lines:
            session.view(line.sku)
            session.add(
                "add_to_cart", f"/product/{line.sku.sku}", sku=line.sku.sku, category=line.sku.category
            )
        events.extend(e for e in session.events if e.ts < order.ts)
    for person in population.persons:
        if not person.devices:
            continue
        per_month = 0.35 if person.preferred_channel == "online" else 0.1 if person.user_id else 0.08
        for t in _poisson_times(rng, max(HISTORY_START, person.first_seen), person.active_until, per_month):
            session, midway = _open_session(rng, person, _at_hour(rng, t, _ONLINE_HOURS), False)
            sku = shop.pick(rng, person)
            session.add("page_view", "/")
            if rng.random() < 0.6:
                session.add("search", "/search", query=_query(rng, sku))
            session.add("page_view", f"/category/{category_slug(sku.category)}", category=sku.category)
            if midway:
                session.login()
            session.view(sku)
            if rng.random() < 0.2:
                session.add("add_to_cart", f"/product/{sku.sku}", sku=sku.sku, category=sku.category)
            events.extend(e for e in session.events if e.ts < NOW)
        if person.user_id is not None:
            events.extend(_consents(rng, person))
    events.sort(key=lambda e: (e.ts, e.person.true_id, e.event))
    return events


def _query(rng: random.Random, sku: Sku) -> str:
    return rng.choice((sku.product, sku.product, f"{sku.product} 推荐", sku.name.split(" ")[0], sku.category))


def _consents(rng: random.Random, person: Person) -> list[WebEvent]:
    """The initial choice for every purpose, a later change for some, withdrawal by churners."""
    start = max(person.first_seen, HISTORY_START + rng.randrange(30 * DAY))
    session = _Session(rng, person, start, False)
    session.login()
    for purpose in PURPOSES:
        session.add(
            "consent_change",
            "/account/privacy",
            purpose=purpose,
            granted=rng.random() < _CONSENT_ODDS[purpose],
        )
    if rng.random() < 0.15 and start < NOW - 30 * DAY:
        later = _Session(rng, person, rng.randint(start + DAY, NOW - DAY), True)
        purpose = rng.choice(PURPOSES)
        later.add("consent_change", "/account/privacy", purpose=purpose, granted=rng.random() < 0.4)
        session.events.extend(later.events)
    if person.churned_at is not None and rng.random() < 0.5:
        quit_ = _Session(rng, person, min(NOW - DAY, person.churned_at + rng.randrange(60 * DAY)), True)
        for purpose in ("marketing_sms", "marketing_email"):
            quit_.add("consent_change", "/account/privacy", purpose=purpose, granted=False)
        session.events.extend(quit_.events)
    return [e for e in session.events if e.ts < NOW]


_KINDS: dict[Tone, tuple[tuple[str, ...], tuple[int, ...]]] = {
    "positive": (("评价", "咨询", "退换货", "投诉"), (55, 35, 8, 2)),
    "neutral": (("咨询", "退换货", "评价", "投诉"), (50, 25, 15, 10)),
    "negative": (("投诉", "退换货", "评价", "咨询"), (55, 20, 15, 10)),
}


def _soured(person: Person, ts: int) -> bool:
    return person.churned_at is not None and ts >= person.churned_at - 60 * DAY


def simulate_tickets(rng: random.Random, population: Population, orders: list[Order]) -> list[Ticket]:
    bought: dict[str, list[str]] = {}
    for order in orders:
        bought.setdefault(order.person.true_id, []).extend(line.sku.product for line in order.lines)
    tickets: list[Ticket] = []
    for person in population.persons:
        products = bought.get(person.true_id) or ["商品"]
        start = max(HISTORY_START, person.first_seen)
        times = _poisson_times(rng, start, NOW, (0.15 + 0.6 * (1 - person.satisfaction)) / 12)
        if person.churned_at is not None and rng.random() < 0.7:
            times.append(min(NOW - 3600, person.churned_at + rng.randint(-30 * DAY, 90 * DAY)))
        for t in times:
            tone = choose_tone(rng, person.satisfaction, _soured(person, t))
            kinds, weights = _KINDS[tone]
            kind = rng.choices(kinds, weights=weights)[0]
            rating = rating_for(rng, tone) if kind == "评价" else None
            text = ticket_text(rng, kind, tone, rng.choice(products))
            tickets.append(Ticket(person, _at_hour(rng, t, _ONLINE_HOURS), kind, rating, text, tone))
    tickets.sort(key=lambda t: (t.ts, t.person.true_id))
    return tickets


def simulate_surveys(rng: random.Random, population: Population) -> list[SurveyAnswer]:
    answers: list[SurveyAnswer] = []
    for person in population.persons:
        for wave in SURVEY_WAVES:
            if person.first_seen > wave or rng.random() > 0.09:
                continue
            ts = wave + rng.randrange(10 * DAY)
            sat = person.satisfaction
            if _soured(person, ts):
                nps, score = rng.randint(0, 4), rng.randint(1, 2)
            else:
                nps = min(10, max(0, round(10 * sat + rng.gauss(0, 1.3))))
                score = min(5, max(1, round(1 + 4 * sat + rng.gauss(0, 0.5))))
            tone: Tone = "positive" if nps >= 9 else "negative" if nps <= 6 else "neutral"
            comment = survey_comment(rng, tone) if rng.random() < 0.7 else None
            answers.append(SurveyAnswer(person, ts, nps, score, comment))
    answers.sort(key=lambda a: (a.ts, a.person.true_id))
    return answers


def simulate_referrals(rng: random.Random, population: Population) -> list[Referral]:
    """About one in ten persons who joined during the history was referred; a few referrers are
    prolific (Pareto-distributed influence), and most referrals stay within a city."""
    persons = sorted(population.persons, key=lambda p: (p.first_seen, p.true_id))
    influence = [rng.paretovariate(1.1) for _ in persons]
    joined = [p.first_seen for p in persons]
    overall = list(itertools.accumulate(influence))
    by_city: dict[str, tuple[list[int], list[int], list[float]]] = {}
    for index, person in enumerate(persons):
        idx, times, cum = by_city.setdefault(person.city.name, ([], [], []))
        idx.append(index)
        times.append(person.first_seen)
        cum.append((cum[-1] if cum else 0.0) + influence[index])
    referrals: list[Referral] = []
    for person in persons:
        if person.first_seen < HISTORY_START + 30 * DAY or rng.random() > 0.1:
            continue
        cutoff = person.first_seen - 7 * DAY
        idx, times, cum = by_city[person.city.name]
        local = bisect.bisect_left(times, cutoff)
        if local and rng.random() < 0.7:
            referrer = persons[idx[bisect.bisect_left(cum, rng.random() * cum[local - 1], hi=local - 1)]]
        else:
            limit = bisect.bisect_left(joined, cutoff)
            if not limit:
                continue
            referrer = persons[bisect.bisect_left(overall, rng.random() * overall[limit - 1], hi=limit - 1)]
        referrals.append(Referral(referrer, person, person.first_seen - rng.randrange(3 * DAY)))
    referrals.sort(key=lambda r: (r.ts, r.referee.true_id))
    return referrals


def simulate(seed: int, population: Population, catalog: tuple[Sku, ...]) -> Activity:
    """All behaviour, each kind from its own random stream so one change does not shift the rest."""
    orders = simulate_orders(random.Random(f"{seed}:orders"), population, catalog)
    return Activity(
        orders=tuple(orders),
        events=tuple(simulate_web(random.Random(f"{seed}:web"), population, orders, catalog)),
        tickets=tuple(simulate_tickets(random.Random(f"{seed}:tickets"), population, orders)),
        surveys=tuple(simulate_surveys(random.Random(f"{seed}:surveys"), population)),
        referrals=tuple(simulate_referrals(random.Random(f"{seed}:referrals"), population)),
    )
