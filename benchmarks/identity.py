"""Identity resolution at scale: identify records plus behavioural events, resolved end to end.

    uv run --frozen python -m benchmarks.identity                      # 800,000 persons: 1M identify, ~10M events
    uv run --frozen python -m benchmarks.identity --persons 100000     # an eighth of that

The warehouse is filled directly in DuckDB with the shapes ingest writes (events, identifier tokens), so the
run measures resolution, not ingest (``benchmarks/ingest.py`` measures that). Each person has a CRM record
(member number, a phone for most, an e-mail or ID card for some); a quarter opened a second account whose
record shares no identifier with the CRM one and has typos in the name; till orders carry a phone or the
member number; web events carry a device and, when logged in, the account; 3% of devices are a family's,
shared by up to three persons. Printed: time per stage of a full run (which trains the matching model) and
of an incremental run on 1% more events (which reuses it and scores only the new records' pairs), the Splink
step beside hand-configured plain Splink on the same identify records, and accuracy on the identify records
against the known truth.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import tempfile
import time
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table

from huaxiang.identity.evaluation import evaluate_clusters
from huaxiang.identity.matching import RECORDS, stage_records
from huaxiang.identity.resolve import resolve_identities
from huaxiang.identity.semantic_types import MatchField
from huaxiang.workspace import Workspace

IDENTITY = """\
sources: []
identity:
  match:
    fields: {full_name: full_name, birth_date: birth_date, gender: gender, city: city, address: address}
    threshold: 0.99
"""
FIELDS = (
    MatchField("full_name", "full_name"),
    MatchField("birth_date", "birth_date"),
    MatchField("gender", "gender"),
    MatchField("city", "city"),
    MatchField("address", "address"),
)
SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = list(
    "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀英华平刚桂兰霞鹏辉玲燕飞鑫波宇浩凯健俊帆帅旭宁龙林欢阳建国云峰亮成红梅琳晨雪倩婷颖晶瑶佳慧"
)
LOOK_ALIKE = dict(zip("王李杨刘陈伟明娜峰辉军林静刚丽杰", "玉季扬浏阵传朋哪锋挥车材净钢郦木", strict=True))
CITIES = [
    "北京市",
    "上海市",
    "广州市",
    "深圳市",
    "杭州市",
    "成都市",
    "武汉市",
    "南京市",
    "西安市",
    "重庆市",
    "天津市",
    "苏州市",
    "长沙市",
    "郑州市",
    "青岛市",
    "沈阳市",
    "宁波市",
    "昆明市",
    "大连市",
    "厦门市",
]


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def fill_warehouse(
    con: duckdb.DuckDBPyConnection, persons: int, *, offset: int = 0, part: str = "p0"
) -> None:
    """Persons ``offset .. offset+persons-1`` with their records and events, as ingest would have written them."""
    n, s, g, c = persons, len(SURNAMES), len(GIVEN), len(CITIES)
    surnames, given, cities = _sql_list(SURNAMES), _sql_list(GIVEN), _sql_list(CITIES)
    look_alike = f"MAP({_sql_list(list(LOOK_ALIKE))}, {_sql_list(list(LOOK_ALIKE.values()))})"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE people AS
        SELECT i,
               {surnames}[(hash(i, 1) % {s})::BIGINT + 1] || {given}[(hash(i, 2) % {g})::BIGINT + 1]
               || CASE WHEN hash(i, 3) % 2 = 0 THEN {given}[(hash(i, 4) % {g})::BIGINT + 1] ELSE '' END AS full_name,
               strftime(DATE '1950-01-01' + (hash(i, 5) % 18000)::INTEGER, '%Y-%m-%d') AS birth_date,
               CASE WHEN hash(i, 6) % 2 = 0 THEN 'M' ELSE 'F' END AS gender,
               {cities}[(hash(i, 7) % {c})::BIGINT + 1] AS city,
               (hash(i, 8) % 999 + 1)::VARCHAR || '号' || (hash(i, 9) % 30 + 1)::VARCHAR || '栋'
               || (hash(i, 10) % 2800 + 101)::VARCHAR || '室' AS address,
               CASE WHEN hash(i, 11) % 10 < 9 THEN '+861' || (30 + hash(i, 12) % 60)::VARCHAR
                    || lpad((i % 100000000)::VARCHAR, 8, '0') END AS phone,
               CASE WHEN hash(i, 13) % 10 < 3 THEN 'm' || i::VARCHAR || '@example.cn' END AS email,
               CASE WHEN hash(i, 14) % 10 < 3 THEN 'ID' || lpad(i::VARCHAR, 16, '0') END AS id_card,
               CASE WHEN hash(i, 15) % 100 < 3 THEN 'FAM' || (i // 3)::VARCHAR ELSE 'D' || i::VARCHAR END AS device
        FROM range({offset}, {offset + n}) t(i)
        """
    )
    token = "sha256({type} || chr(31) || {value})"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE bench_events AS
        SELECT 'crm' AS source, 'identify' AS type, 'C' || i AS record_key, i,
               TIMESTAMP '2024-01-01' + to_seconds(hash(i, 20) % 31536000) AS ts,
               json_object('full_name', full_name, 'birth_date', birth_date, 'gender', gender,
                           'city', city, 'address', city || address) AS attributes,
               ['crm_id', 'phone', 'email', 'id_card'] AS types,
               ['C' || i, phone, email, id_card] AS ids
        FROM people
        UNION ALL
        SELECT 'shop', 'identify', 'A' || i, i, TIMESTAMP '2025-01-01' + to_seconds(hash(i, 21) % 31536000),
               json_object(
                   'full_name', CASE WHEN hash(i, 22) % 3 = 0
                       THEN coalesce(map_extract({look_alike}, full_name[1])[1], full_name[1]) || full_name[2:]
                       ELSE full_name END,
                   'birth_date', CASE WHEN hash(i, 23) % 10 = 0 THEN NULL ELSE birth_date END,
                   'gender', gender,
                   'city', CASE WHEN hash(i, 24) % 10 = 0 THEN NULL ELSE city END,
                   'address', CASE WHEN hash(i, 25) % 4 = 0 THEN address ELSE city || address END),
               ['user_id'], ['U' || i]
        FROM people WHERE hash(i, 26) % 4 = 0
        UNION ALL
        SELECT 'pos', 'purchase', 'T' || i || '-' || k, i, TIMESTAMP '2025-06-01' + to_seconds(hash(i, k, 27) % 15552000),
               NULL, [CASE WHEN phone IS NOT NULL AND k % 2 = 0 THEN 'phone' ELSE 'crm_id' END],
               [CASE WHEN phone IS NOT NULL AND k % 2 = 0 THEN phone ELSE 'C' || i END]
        FROM people, range(3) r(k)
        UNION ALL
        SELECT 'web', CASE WHEN k % 5 < 3 THEN 'page_view' ELSE 'login' END, 'W' || i || '-' || k, i,
               TIMESTAMP '2025-06-01' + to_seconds(hash(i, 28) % 15552000 + k * 600), NULL,
               CASE WHEN k % 5 < 2 THEN ['device_id'] ELSE ['device_id', 'user_id'] END,
               CASE WHEN k % 5 < 2 THEN [device] ELSE [device, 'U' || i] END
        FROM people, range(9) r(k)
        UNION ALL
        SELECT 'online', 'purchase', 'O' || i, i, TIMESTAMP '2025-06-01' + to_seconds(hash(i, 29) % 15552000), NULL,
               ['user_id', 'phone'], ['U' || i, CASE WHEN hash(i, 30) % 2 = 0 THEN phone END]
        FROM people WHERE hash(i, 31) % 2 = 0
        """
    )
    con.execute(
        f"""
        INSERT INTO events
        SELECT left(sha256(source || chr(31) || record_key), 32), source, type, ts, ts, '{part}', record_key,
               source || ':' || record_key, attributes, NULL, []::VARCHAR[]
        FROM bench_events
        """
    )
    con.execute(
        f"""
        INSERT INTO event_identifiers
        SELECT left(sha256(source || chr(31) || record_key), 32), t, {token.format(type="t", value="v")}
        FROM (SELECT source, record_key, unnest(types) AS t, unnest(ids) AS v FROM bench_events) WHERE v IS NOT NULL
        """
    )
    con.execute("CREATE TABLE IF NOT EXISTS bench_truth (source VARCHAR, record_key VARCHAR, true_id BIGINT)")
    con.execute(
        "INSERT INTO bench_truth SELECT source, record_key, i FROM bench_events WHERE type = 'identify'"
    )
    for name in ("people", "bench_events"):
        con.execute(f"DROP TABLE {name}")


def plain_splink(con: duckdb.DuckDBPyConnection) -> float:
    """Hand-configured Splink on the same identify records (what a Splink user would write), timed."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    started = time.perf_counter()
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        blocking_rules_to_generate_predictions=[
            block_on("full_name", "birth_date"),
            block_on("full_name", "city"),
            block_on("birth_date", "city"),
        ],
        comparisons=[
            cl.NameComparison("full_name").configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("birth_date", [1]),
            cl.ExactMatch("gender"),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("address", [0.9, 0.75]),
        ],
    )
    db_api = DuckDBAPI(con)
    linker = Linker(db_api.register(RECORDS), settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("full_name", "birth_date", "city")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1_000_000, seed=20240601)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth_date"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("full_name"))
    predictions = linker.inference.predict(threshold_match_probability=0.99)
    linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.99)
    elapsed = time.perf_counter() - started
    db_api.delete_tables_created_by_splink_from_db()  # type: ignore[no-untyped-call]
    return elapsed


def accuracy(con: duckdb.DuckDBPyConnection) -> tuple[float, float, float, int]:
    rows = con.execute(
        """
        SELECT t.source || t.record_key, t.true_id, p.person_id FROM bench_truth t
        JOIN events e ON e.source = t.source AND e.record_key = t.record_key
        JOIN event_persons p ON p.event_id = e.event_id
        """
    ).fetchall()
    metrics = evaluate_clusters(
        {key: person for key, _, person in rows}, {key: true for key, true, _ in rows}
    )
    return metrics.precision, metrics.recall, metrics.f1, metrics.records


def same_as_full_run(workspace: Workspace) -> tuple[int, int, int]:
    """Resolve everything again with the stored model; (distinct person pairs, persons before, after).

    The two partitions of the events are equal when each earlier person pairs with exactly one new one.
    """
    con = workspace.warehouse.con
    con.execute("CREATE OR REPLACE TABLE bench_incremental AS SELECT event_id, person_id FROM event_persons")
    resolve_identities(workspace, full=True)
    row = con.execute(
        """
        SELECT count(DISTINCT (b.person_id, p.person_id)), count(DISTINCT b.person_id), count(DISTINCT p.person_id)
        FROM bench_incremental b JOIN event_persons p USING (event_id)
        """
    ).fetchall()[0]
    con.execute("DROP TABLE bench_incremental")
    return int(row[0]), int(row[1]), int(row[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=800_000, help="persons (identify records ≈ 1.25 ×)")
    parser.add_argument("--keep", type=Path, help="build the workspace here and keep it")
    parser.add_argument("--skip-plain", action="store_true", help="do not run plain Splink beside")
    parser.add_argument(
        "--check", action="store_true", help="then resolve all again with the same model and compare persons"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("huaxiang").setLevel(logging.INFO)
    console = Console()
    root = args.keep or Path(tempfile.mkdtemp(prefix="hx-identity-bench-"))
    if root.exists():
        shutil.rmtree(root)
    workspace = Workspace.init(root, name="bench", sources_yaml=IDENTITY)
    con = workspace.warehouse.con
    try:
        started = time.perf_counter()
        fill_warehouse(con, args.persons)
        con.execute("CHECKPOINT")  # as after an ingest: resolution reads committed, checkpointed data
        identify, events = con.execute(
            "SELECT count(*) FILTER (WHERE type = 'identify'), count(*) FROM events"
        ).fetchall()[0]
        console.print(
            f"filled {events:,} events ({identify:,} identify, {events - identify:,} behavioural) "
            f"for {args.persons:,} persons in {time.perf_counter() - started:.1f} s"
        )
        full = resolve_identities(workspace)
        precision, recall, f1, records = accuracy(con)

        extra = max(args.persons // 100, 10)
        fill_warehouse(con, extra, offset=args.persons * 2, part="p1")
        con.execute(
            "INSERT INTO events SELECT left(sha256('pos2' || chr(31) || record_key), 32), 'pos2', type, ts, ts, 'p2', "
            "record_key, record_ref, NULL, NULL, flags FROM events WHERE source = 'pos' AND hash(record_key) % 100 = 0"
        )
        con.execute(
            "INSERT INTO event_identifiers SELECT left(sha256('pos2' || chr(31) || e.record_key), 32), i.id_type, "
            "i.token FROM events e JOIN event_identifiers i USING (event_id) "
            "WHERE e.source = 'pos' AND hash(e.record_key) % 100 = 0"
        )
        con.execute("CHECKPOINT")
        incremental = resolve_identities(workspace)
        after = accuracy(con)
        check = same_as_full_run(workspace) if args.check else None

        plain = None
        if not args.skip_plain:
            stage_records(con, workspace.cipher, FIELDS, ["identify"])
            plain = plain_splink(con)
            con.execute(f"DROP TABLE {RECORDS}")
    finally:
        workspace.close()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)

    table = Table(title=f"identity resolution, {args.persons:,} persons")
    table.add_column("stage")
    table.add_column("full run s", justify="right")
    table.add_column("incremental s", justify="right")
    for stage in full.stages:
        table.add_row(stage, f"{full.stages[stage]:.2f}", f"{incremental.stages.get(stage, 0.0):.2f}")
    table.add_row("total", f"{full.seconds:.2f}", f"{incremental.seconds:.2f}", style="bold")
    console.print(table)
    console.print(
        f"full: {full.scope_events:,} events → {full.persons:,} persons; "
        f"graph {full.graph.nodes if full.graph else 0:,} nodes, "
        f"{full.graph.identifier_links if full.graph else 0:,} identifier links, {full.match.pairs:,} match pairs; "
        f"{full.conflicts:,} conflicts"
    )
    console.print(
        f"incremental: {incremental.new_events:,} new events reach {incremental.scope_events:,} events "
        f"of {incremental.scope_persons:,} earlier persons; {incremental.merges:,} merges; "
        f"{incremental.match.pairs:,} new match pairs; matching model {incremental.match.model or 'not run'}"
        + (
            f" (trained on {incremental.match.model_records:,} records)"
            if incremental.match.model == "reused"
            else ""
        )
    )
    console.print(f"Splink step (huaxiang, {full.match.records:,} records): {full.stages['match']:.1f} s")
    if plain is not None:
        console.print(
            f"plain Splink on the same records: {plain:.1f} s; ratio {full.stages['match'] / plain:.2f}"
        )
    console.print(
        f"accuracy on {records:,} identify records: precision {precision:.4f}, recall {recall:.4f}, F1 {f1:.4f}"
    )
    console.print(
        f"after the incremental run, on {after[3]:,} identify records: precision {after[0]:.4f}, "
        f"recall {after[1]:.4f}, F1 {after[2]:.4f}"
    )
    if check is not None:
        groups, persons_before, persons_after = check
        console.print(
            f"full run with the same model: {persons_after:,} persons; the incremental result had "
            f"{persons_before:,}; {groups:,} (earlier, new) person pairs: "
            + (
                "[green]the same partition[/]"
                if groups == persons_before == persons_after
                else "[red]differs[/]"
            )
        )


if __name__ == "__main__":
    main()
