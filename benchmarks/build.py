"""Profile build: the standard library (69 traits, 66 tags) beside a hand-written DuckDB query, same run.

    uv run --frozen python -m benchmarks.build --persons 50000          # 1M events
    uv run --frozen python -m benchmarks.build --persons 1000000        # the target: 20M events

Events are generated inside DuckDB (20 per person, two years, the demo's vocabulary: purchases online and in
store, views, searches, carts, logins, consent changes, reviews, complaints, tickets, surveys, referrals, CRM
identify rows) and assigned to persons directly, as identity resolution would. The build runs the standard
library through Ibis; the reference computes the same 69 traits by hand with the same engine tricks the build
uses: each JSON document parsed once, per-event columns shared by many traits and stored first in a temporary
table (read by several passes; uncompressed, about 10 GB at 20M events), the local clock as UTC+8 arithmetic,
then one query with three GROUP BYs with FILTERs (arithmetic, distinct counts, ordered picks, as the build
splits them) and a grouped count per (person, value) with a bounded ``arg_min`` over an integer key for each
ranking. Both results are compared column by column; the report gives the time of each phase and the ratio of
huaxiang's trait phase to the hand-written side. The build's trait phase also computes the referral-graph
measures and attaches model outputs, which the reference does not.
"""

from __future__ import annotations

import argparse
import re
import resource
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from huaxiang.demo import demo_sources_yaml
from huaxiang.tags.build import build_profiles
from huaxiang.workspace import Workspace

AS_OF = datetime(2025, 1, 1)  # UTC; events span 2023-01-01 .. 2024-12-31
CATEGORIES = "['手机数码', '美妆个护', '服饰鞋包', '食品生鲜', '家居家装', '母婴用品', '运动户外', '图书文具', '家用电器', '宠物用品']"
CITIES = "[('广东省', '深圳市', '南山区'), ('上海市', '上海市', '浦东新区'), ('北京市', '北京市', '朝阳区'), ('浙江省', '杭州市', '西湖区'), ('四川省', '成都市', '武侯区')]"


def generate(workspace: Workspace, persons: int, per_person: int, seed: float = 0.42) -> int:
    """Synthetic events straight into the warehouse, and their persons."""
    con = workspace.warehouse.con
    events = persons * per_person
    con.execute(f"SELECT setseed({seed})")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE bench AS
        SELECT i, 'P' || lpad((hash(i) % {persons})::VARCHAR, 8, '0') AS person_id,
               random() AS r, random() AS s, random() AS u, random() AS v
        FROM range({events}) t(i)
        """
    )
    con.execute(
        f"""
        INSERT INTO events
        WITH typed AS (
            SELECT *,
                CASE WHEN r < 0.05 THEN 'identify' WHEN r < 0.30 THEN 'purchase' WHEN r < 0.65 THEN 'page_view'
                     WHEN r < 0.73 THEN 'search' WHEN r < 0.81 THEN 'add_to_cart' WHEN r < 0.85 THEN 'login'
                     WHEN r < 0.88 THEN 'consent_change' WHEN r < 0.91 THEN 'review' WHEN r < 0.93 THEN 'complaint'
                     WHEN r < 0.95 THEN 'service_ticket' WHEN r < 0.98 THEN 'survey_response' ELSE 'referral' END AS type,
                TIMESTAMP '2023-01-01' + to_seconds((s * 730 * 86400)::BIGINT) AS ts,
                {CATEGORIES}[1 + floor(u * u * 10)::INT] AS category,
                {CITIES}[1 + (hash(person_id) % 5)::INT] AS place
            FROM bench
        )
        SELECT 'e' || i,
            CASE WHEN type = 'identify' THEN 'crm' WHEN type = 'purchase' AND v < 0.5 THEN 'pos_orders'
                 WHEN type = 'purchase' THEN 'online_orders' ELSE 'web_events' END,
            type, ts, ts, 'bench', 'k' || i, 'bench:' || i,
            CASE WHEN type = 'identify' THEN json_object(
                'gender', CASE WHEN hash(person_id) % 2 = 0 THEN 'M' ELSE 'F' END,
                'birth_date', (DATE '1960-01-01' + (hash(person_id) % 15000)::INT)::VARCHAR,
                'province', place[1], 'city', place[2], 'district', place[3],
                'member_level', (['普通会员', '银卡会员', '金卡会员'])[1 + floor(v * 3)::INT],
                'registered_at', strftime(ts - INTERVAL 30 DAY, '%Y-%m-%d %H:%M:%S')) END,
            CASE type
                WHEN 'identify' THEN NULL
                WHEN 'purchase' THEN CASE WHEN v < 0.5
                    THEN json_object('order_id', 'O' || (i // 2), 'category', category, 'sku', 'SKU' || floor(u * 500)::INT,
                                     'store', 'S' || floor(v * 40)::INT, 'amount', round(10 + u * 990, 2))
                    ELSE json_object('order_id', 'O' || (i // 2), 'category', category, 'sku', 'SKU' || floor(u * 500)::INT,
                                     'unit_price', round(5 + v * 500, 2), 'quantity', 1 + floor(u * 3)::INT,
                                     'channel', (['app', 'web', 'mini-program'])[1 + floor(v * 6)::INT % 3],
                                     'status', CASE WHEN u < 0.05 THEN 'refunded' WHEN u < 0.07 THEN 'cancelled' ELSE 'completed' END) END
                WHEN 'page_view' THEN json_object('category', category, 'page', '/product/' || floor(u * 500)::INT)
                WHEN 'add_to_cart' THEN json_object('category', category, 'sku', 'SKU' || floor(u * 500)::INT)
                WHEN 'consent_change' THEN json_object('purpose', (['marketing_sms', 'marketing_email', 'personalisation'])[1 + floor(u * 3)::INT], 'granted', v < 0.6)
                WHEN 'review' THEN json_object('rating', 1 + floor(u * 5)::INT)
                WHEN 'survey_response' THEN json_object('nps', floor(u * 11)::INT, 'satisfaction', 1 + floor(v * 5)::INT)
                WHEN 'referral' THEN json_object('referee_phone', '+86138' || lpad(floor(u * 1e8)::BIGINT::VARCHAR, 8, '0'))
                ELSE json_object('page', '/') END,
            NULL
        FROM typed
        """
    )
    con.execute("CREATE OR REPLACE TABLE event_persons AS SELECT 'e' || i AS event_id, person_id FROM bench")
    con.execute("DROP TABLE bench")
    return events


# The reference: the standard library's traits written by hand in DuckDB SQL, with the same semantics
# (filters, windows before the as-of time, ties to the earlier event id, ranked values ties to the smaller).
BOUGHT = "type = 'purchase' AND coalesce(status, 'paid') NOT IN ('refunded', 'cancelled')"
ACTIVE = "type NOT IN ('identify', 'consent_change')"
DAYS = "ts >= TIMESTAMP '{as_of}' - INTERVAL {days} DAY"
EVENTS = "hand_events"  # the hand-written side's per-event columns, stored like the build's


def ranking(name: str, value: str, where: str, picks: dict[str, int]) -> tuple[str, str]:
    """Ranked traits by hand: one count per (person, value), then the k most frequent values per person
    (ties: the smaller value first) with a bounded ``arg_min`` over one integer key, ``-count · 2³¹ + the
    value's position among the distinct values`` (the build's key; a struct key is about three times slower).
    Returns the CTEs and the joined columns."""
    best = ", ".join(
        f"arg_min(v, -n * 2147483648 + r, {k}){'[1]' if k == 1 else ''} AS {column}"
        for column, k in picks.items()
    )
    cte = f"""{name}_n AS (
        SELECT person_id, {value} AS v, count(*) AS n FROM {EVENTS} WHERE {where} AND {value} IS NOT NULL GROUP BY ALL
    ), {name} AS (
        SELECT person_id, {best}
        FROM {name}_n JOIN (SELECT v, row_number() OVER (ORDER BY v) AS r FROM (SELECT DISTINCT v FROM {name}_n)) USING (v)
        GROUP BY person_id
    )"""
    return cte, ", ".join(f"{name}.{column}" for column in picks)


def families(columns: str) -> dict[str, list[str]]:
    """The trait columns of one ``SELECT`` list split like the build splits them, each family its own
    ``GROUP BY``: ordered picks (``arg_max``), distinct counts, and the arithmetic rest."""
    items: list[str] = []
    current: list[str] = []
    for line in columns.strip().splitlines():
        current.append(line.strip())
        if re.search(r"AS \w+,?$", line):
            items.append(" ".join(current).rstrip(","))
            current = []
    found: dict[str, list[str]] = {"arithmetic": [], "distinct_": [], "picked": []}
    for item in items:
        family = (
            "picked" if item.startswith("arg_max(") else "distinct_" if "DISTINCT" in item else "arithmetic"
        )
        found[family].append(item)
    return found


def members(document: str, names: list[str]) -> str:
    """One parse of a JSON document into the members the traits read, as text (``json_transform``)."""
    return f"json_transform({document}, '{{" + ", ".join(f'"{n}": "VARCHAR"' for n in names) + "}')"


PROPERTIES = [
    "order_id",
    "status",
    "category",
    "sku",
    "channel",
    "store",
    "amount",
    "unit_price",
    "quantity",
    "rating",
    "nps",
    "satisfaction",
    "referee_phone",
    "purpose",
    "granted",
]
ATTRIBUTES = ["gender", "birth_date", "province", "city", "district", "member_level", "registered_at"]


def hand_written_sql(as_of: datetime) -> tuple[str, str]:
    """The per-event columns (stored first as ``EVENTS``, as the build stores its own), then the traits."""
    stamp = f"{as_of:%Y-%m-%d %H:%M:%S}"

    def within(days: int) -> str:
        return DAYS.format(as_of=stamp, days=days)

    line_of = "coalesce(amount, unit_price * coalesce(quantity, 1))"
    line, bought, active = "line", "bought", "active"
    channel = "coalesce(channel, CASE WHEN store IS NOT NULL THEN 'store' END)"
    # Asia/Shanghai has kept UTC+8 without daylight saving since 1991: its wall clock is plain arithmetic.
    local = "(ts + INTERVAL 8 HOUR)"
    hour = "hour(local_ts)"
    weekday = "isodow(local_ts)"
    crm_first = "{'rank': CASE WHEN source = 'crm' THEN 1 ELSE 0 END, 'ts': ts, 'id': event_id}"
    order = "{'ts': ts, 'id': event_id}"
    decayed = f"CASE type WHEN 'purchase' THEN 5 WHEN 'add_to_cart' THEN 3 WHEN 'search' THEN 2 ELSE 1 END * pow(0.5, (epoch(TIMESTAMP '{stamp}') - epoch(ts)) / {30 * 86400})"
    ranked = [
        ranking("r_channel", channel, bought, {"preferred_channel": 1}),
        ranking("r_category", "category", bought, {"preferred_category": 1, "top_categories": 3}),
        ranking("r_store", "store", bought, {"favourite_store": 1}),
        ranking("r_purchase_hour", hour, bought, {"purchase_hour": 1}),
        ranking("r_hour", hour, active, {"active_hours": 3, "peak_hour": 1}),
        ranking("r_weekday", weekday, active, {"active_weekdays": 3}),
        ranking("r_viewed", "category", "type = 'page_view'", {"top_viewed_categories": 3}),
    ]
    ctes = ", ".join(cte for cte, _ in ranked)
    picked = ", ".join(columns for _, columns in ranked)
    joins = " ".join(f"LEFT JOIN {columns.split('.', 1)[0]} USING (person_id)" for _, columns in ranked)
    columns = f"""
            arg_max(gender, {crm_first}) FILTER (WHERE gender IS NOT NULL) AS gender,
            arg_max(birth_date, {crm_first}) FILTER (WHERE birth_date IS NOT NULL) AS birth_date,
            arg_max(province, {crm_first}) FILTER (WHERE province IS NOT NULL) AS province,
            arg_max(city, {crm_first}) FILTER (WHERE city IS NOT NULL) AS city,
            arg_max(district, {crm_first}) FILTER (WHERE district IS NOT NULL) AS district,
            arg_max(member_level, {crm_first}) FILTER (WHERE member_level IS NOT NULL) AS member_level,
            arg_max(registered_at, {crm_first}) FILTER (WHERE registered_at IS NOT NULL) AS registered_at,
            count(DISTINCT order_id) FILTER (WHERE {bought}) AS orders_total,
            count(DISTINCT order_id) FILTER (WHERE {bought} AND {within(30)}) AS orders_30d,
            count(DISTINCT order_id) FILTER (WHERE {bought} AND {within(90)}) AS orders_90d,
            count(DISTINCT order_id) FILTER (WHERE {bought} AND {within(365)}) AS orders_365d,
            count(*) FILTER (WHERE {bought}) AS purchase_lines,
            sum(coalesce(quantity, 1)) FILTER (WHERE {bought}) AS items_total,
            sum({line}) FILTER (WHERE {bought}) AS spend_total,
            sum({line}) FILTER (WHERE {bought} AND {within(30)}) AS spend_30d,
            sum({line}) FILTER (WHERE {bought} AND {within(90)}) AS spend_90d,
            sum({line}) FILTER (WHERE {bought} AND {within(365)}) AS spend_365d,
            avg({line}) FILTER (WHERE {bought}) AS avg_line_value,
            max({line}) FILTER (WHERE {bought}) AS max_line_value,
            min({line}) FILTER (WHERE {bought}) AS min_line_value,
            min(ts) FILTER (WHERE {bought}) AS first_purchase_at,
            max(ts) FILTER (WHERE {bought}) AS last_purchase_at,
            count(*) FILTER (WHERE type = 'purchase' AND status = 'refunded') AS refunds,
            count(*) FILTER (WHERE type = 'purchase' AND status = 'cancelled') AS cancellations,
            arg_max({channel}, {order}) FILTER (WHERE {bought} AND {channel} IS NOT NULL) AS last_channel,
            count(DISTINCT {channel}) FILTER (WHERE {bought}) AS channels_used,
            count(DISTINCT category) FILTER (WHERE {bought}) AS categories_bought,
            count(DISTINCT sku) FILTER (WHERE {bought}) AS skus_bought,
            count(DISTINCT store) FILTER (WHERE {bought}) AS stores_visited,
            count(*) FILTER (WHERE type = 'purchase' AND isodow(local_ts) >= 6) AS weekend_lines,
            min(ts) AS first_seen_at,
            max(ts) FILTER (WHERE {active}) AS last_seen_at,
            count(DISTINCT floor((epoch(ts) - epoch(TIMESTAMP '1999-12-31 16:00:00')) / 86400))
                FILTER (WHERE {active} AND {within(30)}) AS active_days_30d,
            count(*) FILTER (WHERE type = 'page_view') AS page_views_total,
            count(*) FILTER (WHERE type = 'page_view' AND {within(30)}) AS page_views_30d,
            count(*) FILTER (WHERE type = 'search') AS searches_total,
            count(*) FILTER (WHERE type = 'search' AND {within(30)}) AS searches_30d,
            count(*) FILTER (WHERE type = 'add_to_cart') AS add_to_cart_total,
            count(*) FILTER (WHERE type = 'add_to_cart' AND {within(30)}) AS add_to_cart_30d,
            count(*) FILTER (WHERE type = 'login' AND {within(30)}) AS logins_30d,
            count(DISTINCT category) FILTER (WHERE type = 'page_view') AS viewed_categories,
            count(*) FILTER (WHERE type = 'referral') AS referrals_made,
            count(*) FILTER (WHERE type = 'referral' AND {within(365)}) AS referrals_made_365d,
            count(DISTINCT referee_phone) FILTER (WHERE type = 'referral') AS referred_contacts,
            count(*) FILTER (WHERE type = 'complaint') AS complaints_total,
            count(*) FILTER (WHERE type = 'complaint' AND {within(90)}) AS complaints_90d,
            count(*) FILTER (WHERE type = 'review') AS reviews_total,
            avg(rating) FILTER (WHERE type = 'review') AS avg_rating,
            min(rating) FILTER (WHERE type = 'review') AS min_rating,
            arg_max(rating, {order}) FILTER (WHERE type = 'review' AND rating IS NOT NULL) AS last_rating,
            count(*) FILTER (WHERE type = 'service_ticket') AS tickets_total,
            count(*) FILTER (WHERE type = 'service_ticket' AND {within(90)}) AS tickets_90d,
            count(*) FILTER (WHERE type = 'survey_response') AS surveys_answered,
            arg_max(nps, {order}) FILTER (WHERE type = 'survey_response' AND nps IS NOT NULL) AS last_nps,
            avg(satisfaction) FILTER (WHERE type = 'survey_response') AS avg_satisfaction,
            arg_max(granted, {order}) FILTER (WHERE type = 'consent_change' AND purpose = 'marketing_sms' AND granted IS NOT NULL) AS consent_marketing_sms,
            arg_max(granted, {order}) FILTER (WHERE type = 'consent_change' AND purpose = 'marketing_email' AND granted IS NOT NULL) AS consent_marketing_email,
            arg_max(granted, {order}) FILTER (WHERE type = 'consent_change' AND purpose = 'personalisation' AND granted IS NOT NULL) AS consent_personalisation
    """
    grouped = ", ".join(
        f"{family} AS (SELECT person_id, {', '.join(items)} FROM {EVENTS} GROUP BY person_id)"
        for family, items in families(columns).items()
    )
    return (
        f"""
    WITH parsed AS (
        SELECT p.person_id, v.event_id, v.ts, v.type, v.source,
            {members("v.properties", PROPERTIES)} AS pr, {members("v.attributes", ATTRIBUTES)} AS att
        FROM events v JOIN event_persons p ON p.event_id = v.event_id
        WHERE v.ts < TIMESTAMP '{stamp}'
    ), typed AS (
        SELECT person_id, event_id, ts, type, source,
            pr.order_id, pr.status, pr.category, pr.sku, pr.channel, pr.store,
            TRY_CAST(pr.amount AS DOUBLE) AS amount, TRY_CAST(pr.unit_price AS DOUBLE) AS unit_price,
            TRY_CAST(pr.quantity AS DOUBLE) AS quantity, TRY_CAST(pr.rating AS DOUBLE) AS rating,
            TRY_CAST(pr.nps AS DOUBLE) AS nps, TRY_CAST(pr.satisfaction AS DOUBLE) AS satisfaction,
            pr.referee_phone, pr.purpose, TRY_CAST(pr.granted AS BOOLEAN) AS granted,
            att.gender, TRY_CAST(att.birth_date AS DATE) AS birth_date, att.province, att.city, att.district,
            att.member_level, TRY_CAST(att.registered_at AS TIMESTAMP) AS registered_at
        FROM parsed
    )  -- what many traits share, computed once per event
        SELECT *, {BOUGHT} AS bought, {ACTIVE} AS active, {local} AS local_ts, {line_of} AS line FROM typed
    """,
        f"""
    WITH interest AS (
        SELECT person_id, category, sum({decayed}) AS score
        FROM {EVENTS} WHERE type IN ('purchase', 'add_to_cart', 'search', 'page_view') AND category IS NOT NULL
        GROUP BY ALL
    ), affinity AS (
        SELECT person_id, arg_min(category, {{'s': -score, 'v': category}}, 5) AS category_affinity,
               arg_min(category, {{'s': -score, 'v': category}}) AS top_interest
        FROM interest GROUP BY ALL
    ), {grouped}, {ctes}
    SELECT t.*, a.category_affinity, a.top_interest, {picked}
    FROM (SELECT * FROM arithmetic JOIN distinct_ USING (person_id) JOIN picked USING (person_id)) t
    LEFT JOIN affinity a USING (person_id) {joins}
    """,
    )


def compare(workspace: Workspace, names: list[str]) -> dict[str, int]:
    """Per trait: persons whose value differs between the build and the hand-written query (doubles to 6 places)."""
    types = dict(workspace.warehouse.rows("SELECT column_name, column_type FROM (DESCRIBE hand)"))

    def shown(side: str, name: str) -> str:
        column = f'{side}."{name}"'
        return f"round({column}, 6)::VARCHAR" if types[name] == "DOUBLE" else f"{column}::VARCHAR"

    checks = ", ".join(
        f'count(*) FILTER (WHERE {shown("a", n)} IS DISTINCT FROM {shown("b", n)}) AS "{n}"' for n in names
    )
    row = workspace.warehouse.rows(
        f"SELECT {checks} FROM profiles a FULL JOIN hand b ON a.person_id = b.person_id"
    )[0]
    return {name: int(count) for name, count in zip(names, row, strict=True) if count}


def cpu_seconds() -> float:
    """CPU time of this process, every engine thread included: on a shared machine it moves less with the
    load than the wall clock does."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=50_000)
    parser.add_argument("--events-per-person", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="Build the workspace here and keep it.")
    parser.add_argument(
        "--memory-limit",
        default="14GB",
        help="DuckDB memory limit for both sides (they spill beyond it); the machine is shared.",
    )
    arguments = parser.parse_args()
    console = Console()
    root = arguments.keep or Path(tempfile.mkdtemp(prefix="huaxiang-build-"))
    if root.exists():
        shutil.rmtree(root)
    workspace = Workspace.init(root, name="bench", sources_yaml=demo_sources_yaml())
    try:
        clock = time.perf_counter()
        events = generate(workspace, arguments.persons, arguments.events_per_person)
        generated = time.perf_counter() - clock
        workspace.warehouse.con.execute(f"SET memory_limit = '{arguments.memory_limit}'")
        clock, processor = time.perf_counter(), cpu_seconds()
        report = build_profiles(workspace, as_of=AS_OF, now=datetime(2025, 1, 2))
        total, total_cpu = time.perf_counter() - clock, cpu_seconds() - processor
        clock, processor = time.perf_counter(), cpu_seconds()
        events_sql, traits_sql = hand_written_sql(AS_OF)
        workspace.warehouse.con.execute(f"CREATE OR REPLACE TEMP TABLE {EVENTS} AS {events_sql}")
        workspace.warehouse.con.execute(f"CREATE OR REPLACE TEMP TABLE hand AS {traits_sql}")
        workspace.warehouse.con.execute(f"DROP TABLE {EVENTS}")
        hand, hand_cpu = time.perf_counter() - clock, cpu_seconds() - processor
        trait_names = [n for (n,) in workspace.warehouse.rows("SELECT column_name FROM (DESCRIBE hand)")][1:]
        differences = compare(workspace, trait_names)
        table = Table(title=f"Profile build: {arguments.persons:,} persons, {events:,} events")
        table.add_column("step")
        table.add_column("seconds", justify="right")
        table.add_column("CPU seconds", justify="right")
        table.add_row("generate events (not part of the build)", f"{generated:.1f}", "")
        for phase, seconds in report.seconds.items():
            table.add_row(f"huaxiang {phase}", f"{seconds:.1f}", "")
        table.add_row("huaxiang build, total", f"{total:.1f}", f"{total_cpu:.1f}")
        table.add_row("hand-written DuckDB query (same traits)", f"{hand:.1f}", f"{hand_cpu:.1f}")
        table.add_row("ratio: traits phase / hand-written", f"{report.seconds['traits'] / hand:.2f}", "")
        console.print(table)
        console.print(
            f"load average (1, 5, 15 min) at the end: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}"
        )
        console.print(
            f"{report.traits} traits, {report.tags} tags, {report.build.persons:,} persons; "
            f"traits compared with the hand-written query: {len(trait_names)}, differing: {differences or 'none'}"
        )
    finally:
        workspace.close()
        if arguments.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
