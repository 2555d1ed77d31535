"""Referral graph traits: huaxiang (edges in SQL, PageRank and tree sizes in scipy) beside hand-written DuckDB SQL.

    uv run --frozen python -m benchmarks.referral_graph --persons 100000
    uv run --frozen python -m benchmarks.referral_graph --persons 1000000     # 100k referrals

Synthetic warehouse tables (``events``, ``event_identifiers``, ``event_persons``) are generated inside DuckDB:
one ``identify`` event per person carrying their phone token, and for 10% of persons a ``referral`` event by
an earlier person (skewed towards early customers, so a few refer many), its referee named by ``tok:`` +
token as ingest stores a related identifier; 5% of referrals fall after the as-of time. The reference does
the same in SQL only: the edge join, counts and first referrer by GROUP BY, reach by a recursive CTE over the
first-referrer tree, PageRank by one UPDATE per power iteration. Both results are compared.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime

import duckdb
import ibis
import numpy as np
from rich.console import Console
from rich.table import Table

from huaxiang.traits.referral_graph import DAMPING, referral_measures

AS_OF = datetime(2025, 1, 1)


def generate(con: duckdb.DuckDBPyConnection, persons: int, seed: float = 0.42) -> int:
    con.execute(f"SELECT setseed({seed})")
    con.execute(
        "CREATE TABLE events (event_id VARCHAR, source VARCHAR, type VARCHAR, ts TIMESTAMP, properties JSON)"
    )
    con.execute("CREATE TABLE event_identifiers (event_id VARCHAR, id_type VARCHAR, token VARCHAR)")
    con.execute("CREATE TABLE event_persons (event_id VARCHAR, person_id VARCHAR)")
    con.execute(
        f"""
        INSERT INTO events SELECT 'i' || p, 'crm', 'identify', TIMESTAMP '2023-01-01' + to_seconds(p * 60), NULL
        FROM range({persons}) t(p)
        """
    )
    con.execute(
        f"INSERT INTO event_identifiers SELECT 'i' || p, 'phone', md5(p::VARCHAR) FROM range({persons}) t(p)"
    )
    con.execute(
        f"INSERT INTO event_persons SELECT 'i' || p, 'P' || lpad(p::VARCHAR, 8, '0') FROM range({persons}) t(p)"
    )
    con.execute(
        f"""
        CREATE TEMP TABLE planned AS
        SELECT p AS referee, floor(p * pow(random(), 3))::BIGINT AS referrer, random() AS late
        FROM range(1, {persons}) t(p) WHERE random() < 0.1
        """
    )
    con.execute(
        """
        INSERT INTO events
        SELECT 'r' || referee, 'referrals', 'referral',
               CASE WHEN late < 0.05 THEN TIMESTAMP '2025-06-01' ELSE TIMESTAMP '2023-01-01' + to_seconds(referee * 60 - 30) END,
               json_object('referee_phone', 'tok:' || md5(referee::VARCHAR))
        FROM planned
        """
    )
    con.execute(
        "INSERT INTO event_identifiers SELECT 'r' || referee, 'phone', md5(referrer::VARCHAR) FROM planned"
    )
    con.execute(
        "INSERT INTO event_persons SELECT 'r' || referee, 'P' || lpad(referrer::VARCHAR, 8, '0') FROM planned"
    )
    return int(con.execute("SELECT count(*) FROM planned").fetchone()[0])  # type: ignore[index]


def by_hand(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, str | None, float, int]]:
    """The same traits in DuckDB SQL alone (valid for acyclic data: the recursive CTE would not end on a cycle)."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE h_edges AS
        WITH r AS (
            SELECT event_id, ts, substr(properties->>'referee_phone', 5) AS token FROM events
            WHERE type = 'referral' AND ts < TIMESTAMP '{AS_OF}' AND starts_with(properties->>'referee_phone', 'tok:')
        ), o AS (
            SELECT i.token, min(p.person_id) AS referee FROM event_identifiers i
            JOIN events e ON e.event_id = i.event_id AND e.ts < TIMESTAMP '{AS_OF}'
            JOIN event_persons p ON p.event_id = i.event_id
            WHERE i.token IN (SELECT token FROM r) GROUP BY i.token HAVING count(DISTINCT p.person_id) = 1
        )
        SELECT p.person_id AS referrer, o.referee, r.ts FROM r JOIN event_persons p USING (event_id) JOIN o USING (token)
        WHERE p.person_id <> o.referee
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE h_nodes AS
        SELECT DISTINCT person_id FROM (SELECT referrer AS person_id FROM h_edges UNION SELECT referee FROM h_edges);
        CREATE OR REPLACE TEMP TABLE h_first AS
        SELECT referee, arg_min(referrer, (ts, referrer)) AS parent, count(DISTINCT referrer) AS received
        FROM h_edges GROUP BY referee;
        CREATE OR REPLACE TEMP TABLE h_reach AS
        WITH RECURSIVE up(node, ancestor) AS (
            SELECT referee, parent FROM h_first
            UNION ALL SELECT up.node, f.parent FROM up JOIN h_first f ON f.referee = up.ancestor
        )
        SELECT ancestor AS person_id, count(*) AS reach FROM up GROUP BY ancestor;
        CREATE OR REPLACE TEMP TABLE h_pairs AS SELECT DISTINCT referee AS src, referrer AS dst FROM h_edges;
        CREATE OR REPLACE TEMP TABLE h_out AS SELECT src, count(*) AS degree FROM h_pairs GROUP BY src;
        """
    )
    n = int(con.execute("SELECT count(*) FROM h_nodes").fetchone()[0])  # type: ignore[index]
    con.execute(f"CREATE OR REPLACE TEMP TABLE h_rank AS SELECT person_id, 1.0 / {n} AS rank FROM h_nodes")
    for _ in range(1000):
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE h_next AS
            WITH spread AS (
                SELECT coalesce(sum(r.rank), 0) / {n} AS s FROM h_rank r ANTI JOIN h_out o ON o.src = r.person_id
            ), flow AS (
                SELECT p.dst AS person_id, sum(r.rank / o.degree) AS inflow
                FROM h_pairs p JOIN h_rank r ON r.person_id = p.src JOIN h_out o ON o.src = p.src GROUP BY p.dst
            )
            SELECT n.person_id, {DAMPING} * (coalesce(f.inflow, 0) + (SELECT s FROM spread)) + {1 - DAMPING} / {n} AS rank
            FROM h_nodes n LEFT JOIN flow f USING (person_id)
            """
        )
        change = con.execute(
            "SELECT sum(abs(a.rank - b.rank)) FROM h_next a JOIN h_rank b USING (person_id)"
        ).fetchone()[0]  # type: ignore[index]
        con.execute("CREATE OR REPLACE TEMP TABLE h_rank AS SELECT * FROM h_next")
        if change < 1e-12:
            break
    rows = con.execute(
        f"""
        SELECT n.person_id, coalesce(f.received, 0), f.parent, r.rank * {n}, coalesce(h.reach, 0)
        FROM h_nodes n LEFT JOIN h_first f ON f.referee = n.person_id JOIN h_rank r USING (person_id)
        LEFT JOIN h_reach h USING (person_id)
        """
    ).fetchall()
    return {row[0]: (int(row[1]), row[2], float(row[3]), int(row[4])) for row in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--persons", type=int, default=100_000)
    arguments = parser.parse_args()
    console = Console()
    con = duckdb.connect()
    clock = time.perf_counter()
    referrals = generate(con, arguments.persons)
    generated = time.perf_counter() - clock
    backend = ibis.duckdb.from_connection(con)

    clock = time.perf_counter()
    ours = referral_measures(backend, AS_OF).to_pyarrow()
    huaxiang_seconds = time.perf_counter() - clock
    clock = time.perf_counter()
    reference = by_hand(con)
    reference_seconds = time.perf_counter() - clock

    found = {
        row["person_id"]: (
            row["referrals_received"],
            row["referred_by"],
            row["referral_influence"],
            row["referral_reach"],
        )
        for row in ours.to_pylist()
    }
    same_members = set(found) == set(reference)
    exact = same_members and all(
        found[p][0:2] + found[p][3:] == reference[p][0:2] + reference[p][3:] for p in found
    )
    gap = max((abs(found[p][2] - reference[p][2]) for p in found if p in reference), default=0.0)
    reach = np.array([v[3] for v in found.values()])

    table = Table(title=f"Referral graph: {arguments.persons:,} persons, {referrals:,} referral events")
    table.add_column("what")
    table.add_column("seconds", justify="right")
    table.add_row("generate (not measured)", f"{generated:.2f}")
    table.add_row("huaxiang: referral_measures (SQL edges + scipy)", f"{huaxiang_seconds:.2f}")
    table.add_row(
        "hand-written DuckDB SQL (recursive CTE, PageRank by iteration)", f"{reference_seconds:.2f}"
    )
    table.add_row("ratio huaxiang / SQL", f"{huaxiang_seconds / reference_seconds:.2f}")
    console.print(table)
    console.print(
        f"graph members {len(found):,}; counts, first referrer and reach identical: {exact}; "
        f"largest influence difference {gap:.2e}; largest reach {int(reach.max()) if len(reach) else 0:,}"
    )


if __name__ == "__main__":
    main()
