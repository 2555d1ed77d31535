"""Profile build: the standard library (69 traits, 48 tags) beside one hand-written DuckDB query, same run.

    uv run --frozen python -m benchmarks.build --persons 50000          # 1M events
    uv run --frozen python -m benchmarks.build --persons 1000000        # the target: 20M events

Events are generated inside DuckDB (20 per person, two years, the demo's vocabulary: purchases online and in
store, views, searches, carts, logins, consent changes, reviews, complaints, tickets, surveys, referrals,
CRM identify rows) and assigned to persons directly, as identity resolution would. The build runs the
standard library through Ibis; the reference is one hand-written query computing the same 69 traits (one
GROUP BY with FILTERs, histograms for the ranked traits, one extra grouping for the two time-decayed
ones). Both results are compared column by column; the report gives the time of each phase and the ratio of
huaxiang's trait phase to the hand-written query.
"""

from __future__ import annotations

import argparse
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


def top(value: str, where: str, k: int) -> str:
    """The k most frequent values (ties: the smaller value first), by hand: a histogram sorted by (-n, value)."""
    entries = f"map_entries(histogram({value}) FILTER (WHERE {where}))"
    ranked = f"list_sort(list_transform({entries}, e -> {{'n': -e.value, 'k': e.key}}))"
    return f"list_transform(list_slice({ranked}, 1, {k}), e -> e.k)"


def hand_written_sql(as_of: datetime) -> str:
    stamp = f"{as_of:%Y-%m-%d %H:%M:%S}"

    def within(days: int) -> str:
        return DAYS.format(as_of=stamp, days=days)

    line = "coalesce(amount, unit_price * coalesce(quantity, 1))"
    channel = "coalesce(channel, CASE WHEN store IS NOT NULL THEN 'store' END)"
    local = "timezone('Asia/Shanghai', ts::TIMESTAMPTZ)"
    hour = f"hour({local})"
    weekday = f"isodow({local})"
    crm_first = "{'rank': CASE WHEN source = 'crm' THEN 1 ELSE 0 END, 'ts': ts, 'id': event_id}"
    order = "{'ts': ts, 'id': event_id}"
    decayed = f"CASE type WHEN 'purchase' THEN 5 WHEN 'add_to_cart' THEN 3 WHEN 'search' THEN 2 ELSE 1 END * pow(0.5, (epoch(TIMESTAMP '{stamp}') - epoch(ts)) / {30 * 86400})"
    return f"""
    WITH e AS (
        SELECT p.person_id, v.event_id, v.ts, v.type, v.source,
            v.properties->>'order_id' AS order_id, v.properties->>'status' AS status,
            v.properties->>'category' AS category, v.properties->>'sku' AS sku,
            v.properties->>'channel' AS channel, v.properties->>'store' AS store,
            TRY_CAST(v.properties->>'amount' AS DOUBLE) AS amount,
            TRY_CAST(v.properties->>'unit_price' AS DOUBLE) AS unit_price,
            TRY_CAST(v.properties->>'quantity' AS DOUBLE) AS quantity,
            TRY_CAST(v.properties->>'rating' AS DOUBLE) AS rating, TRY_CAST(v.properties->>'nps' AS DOUBLE) AS nps,
            TRY_CAST(v.properties->>'satisfaction' AS DOUBLE) AS satisfaction,
            v.properties->>'referee_phone' AS referee_phone, v.properties->>'purpose' AS purpose,
            TRY_CAST(v.properties->>'granted' AS BOOLEAN) AS granted,
            v.attributes->>'gender' AS gender, TRY_CAST(v.attributes->>'birth_date' AS DATE) AS birth_date,
            v.attributes->>'province' AS province, v.attributes->>'city' AS city,
            v.attributes->>'district' AS district, v.attributes->>'member_level' AS member_level,
            TRY_CAST(v.attributes->>'registered_at' AS TIMESTAMP) AS registered_at
        FROM events v JOIN event_persons p ON p.event_id = v.event_id
        WHERE v.ts < TIMESTAMP '{stamp}'
    ), interest AS (
        SELECT person_id, category, sum({decayed}) AS score
        FROM e WHERE type IN ('purchase', 'add_to_cart', 'search', 'page_view') AND category IS NOT NULL
        GROUP BY ALL
    ), affinity AS (
        SELECT person_id, list(category ORDER BY score DESC, category)[1:5] AS category_affinity,
               list(category ORDER BY score DESC, category)[1] AS top_interest
        FROM interest GROUP BY ALL
    ), traits AS (
        SELECT person_id,
            arg_max(gender, {crm_first}) FILTER (WHERE gender IS NOT NULL) AS gender,
            arg_max(birth_date, {crm_first}) FILTER (WHERE birth_date IS NOT NULL) AS birth_date,
            arg_max(province, {crm_first}) FILTER (WHERE province IS NOT NULL) AS province,
            arg_max(city, {crm_first}) FILTER (WHERE city IS NOT NULL) AS city,
            arg_max(district, {crm_first}) FILTER (WHERE district IS NOT NULL) AS district,
            arg_max(member_level, {crm_first}) FILTER (WHERE member_level IS NOT NULL) AS member_level,
            arg_max(registered_at, {crm_first}) FILTER (WHERE registered_at IS NOT NULL) AS registered_at,
            count(DISTINCT order_id) FILTER (WHERE {BOUGHT}) AS orders_total,
            count(DISTINCT order_id) FILTER (WHERE {BOUGHT} AND {within(30)}) AS orders_30d,
            count(DISTINCT order_id) FILTER (WHERE {BOUGHT} AND {within(90)}) AS orders_90d,
            count(DISTINCT order_id) FILTER (WHERE {BOUGHT} AND {within(365)}) AS orders_365d,
            count(*) FILTER (WHERE {BOUGHT}) AS purchase_lines,
            sum(coalesce(quantity, 1)) FILTER (WHERE {BOUGHT}) AS items_total,
            sum({line}) FILTER (WHERE {BOUGHT}) AS spend_total,
            sum({line}) FILTER (WHERE {BOUGHT} AND {within(30)}) AS spend_30d,
            sum({line}) FILTER (WHERE {BOUGHT} AND {within(90)}) AS spend_90d,
            sum({line}) FILTER (WHERE {BOUGHT} AND {within(365)}) AS spend_365d,
            avg({line}) FILTER (WHERE {BOUGHT}) AS avg_line_value,
            max({line}) FILTER (WHERE {BOUGHT}) AS max_line_value,
            min({line}) FILTER (WHERE {BOUGHT}) AS min_line_value,
            min(ts) FILTER (WHERE {BOUGHT}) AS first_purchase_at,
            max(ts) FILTER (WHERE {BOUGHT}) AS last_purchase_at,
            count(*) FILTER (WHERE type = 'purchase' AND status = 'refunded') AS refunds,
            count(*) FILTER (WHERE type = 'purchase' AND status = 'cancelled') AS cancellations,
            {top(channel, BOUGHT, 1)}[1] AS preferred_channel,
            arg_max({channel}, {order}) FILTER (WHERE {BOUGHT} AND {channel} IS NOT NULL) AS last_channel,
            count(DISTINCT {channel}) FILTER (WHERE {BOUGHT}) AS channels_used,
            {top("category", BOUGHT, 1)}[1] AS preferred_category,
            {top("category", BOUGHT, 3)} AS top_categories,
            count(DISTINCT category) FILTER (WHERE {BOUGHT}) AS categories_bought,
            count(DISTINCT sku) FILTER (WHERE {BOUGHT}) AS skus_bought,
            count(DISTINCT store) FILTER (WHERE {BOUGHT}) AS stores_visited,
            {top("store", BOUGHT, 1)}[1] AS favourite_store,
            {top(hour, BOUGHT, 1)}[1] AS purchase_hour,
            count(*) FILTER (WHERE type = 'purchase' AND isodow({local}) >= 6) AS weekend_lines,
            {top(hour, ACTIVE, 3)} AS active_hours,
            {top(weekday, ACTIVE, 3)} AS active_weekdays,
            {top(hour, ACTIVE, 1)}[1] AS peak_hour,
            min(ts) AS first_seen_at,
            max(ts) FILTER (WHERE {ACTIVE}) AS last_seen_at,
            count(DISTINCT floor((epoch(ts) - epoch(TIMESTAMP '1999-12-31 16:00:00')) / 86400))
                FILTER (WHERE {ACTIVE} AND {within(30)}) AS active_days_30d,
            count(*) FILTER (WHERE type = 'page_view') AS page_views_total,
            count(*) FILTER (WHERE type = 'page_view' AND {within(30)}) AS page_views_30d,
            count(*) FILTER (WHERE type = 'search') AS searches_total,
            count(*) FILTER (WHERE type = 'search' AND {within(30)}) AS searches_30d,
            count(*) FILTER (WHERE type = 'add_to_cart') AS add_to_cart_total,
            count(*) FILTER (WHERE type = 'add_to_cart' AND {within(30)}) AS add_to_cart_30d,
            count(*) FILTER (WHERE type = 'login' AND {within(30)}) AS logins_30d,
            count(DISTINCT category) FILTER (WHERE type = 'page_view') AS viewed_categories,
            {top("category", "type = 'page_view'", 3)} AS top_viewed_categories,
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
        FROM e GROUP BY person_id
    )
    SELECT t.*, a.category_affinity, a.top_interest FROM traits t LEFT JOIN affinity a USING (person_id)
    """


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=50_000)
    parser.add_argument("--events-per-person", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="Build the workspace here and keep it.")
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
        clock = time.perf_counter()
        report = build_profiles(workspace, as_of=AS_OF, now=datetime(2025, 1, 2))
        total = time.perf_counter() - clock
        clock = time.perf_counter()
        workspace.warehouse.con.execute(f"CREATE OR REPLACE TEMP TABLE hand AS {hand_written_sql(AS_OF)}")
        hand = time.perf_counter() - clock
        trait_names = [n for (n,) in workspace.warehouse.rows("SELECT column_name FROM (DESCRIBE hand)")][1:]
        differences = compare(workspace, trait_names)
        table = Table(title=f"Profile build: {arguments.persons:,} persons, {events:,} events")
        table.add_column("step")
        table.add_column("seconds", justify="right")
        table.add_row("generate events (not part of the build)", f"{generated:.1f}")
        for phase, seconds in report.seconds.items():
            table.add_row(f"huaxiang {phase}", f"{seconds:.1f}")
        table.add_row("huaxiang build, total", f"{total:.1f}")
        table.add_row("hand-written DuckDB query (same traits)", f"{hand:.1f}")
        table.add_row("ratio: traits phase / hand-written", f"{report.seconds['traits'] / hand:.2f}")
        console.print(table)
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
