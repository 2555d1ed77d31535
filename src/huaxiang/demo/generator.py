"""Deterministic multi-source demo data for a Chinese retailer, with the ground truth beside it.

One seed drives everything: persons with latent traits, what they did, and how seven source
systems recorded it, flaws included. Each part draws from its own named random stream, so the
same seed and size give byte-identical files and changing one source leaves the others alone.
There is no wall clock: the data's "now" is 2026-11-30 23:59 Asia/Shanghai.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from huaxiang.demo.activity import simulate
from huaxiang.demo.catalog import build_catalog
from huaxiang.demo.crm import build_crm
from huaxiang.demo.feedback import build_referrals, build_surveys, build_tickets
from huaxiang.demo.orders import build_online_orders, build_pos_orders
from huaxiang.demo.people import generate_people
from huaxiang.demo.records import SourceTable
from huaxiang.demo.truth import write_truth
from huaxiang.demo.web_events import SCHEMA, build_web_events, part_count
from huaxiang.demo.writers import write_csv, write_jsonl, write_parquet_parts, write_xlsx
from huaxiang.errors import HuaxiangError

logger = logging.getLogger(__name__)

SOURCE_FILES = {
    "crm": "crm_customers.csv",
    "online_orders": "online_orders.jsonl",
    "pos_orders": "pos_orders.csv",
    "web_events": "web_events/part-*.parquet",
    "service_tickets": "service_tickets.xlsx",
    "surveys": "surveys.csv",
    "referrals": "referrals.csv",
}
_STEPS = ("people", "activity", *SOURCE_FILES, "truth")


@dataclass(frozen=True, slots=True)
class DemoManifest:
    """What ``generate_demo_data`` wrote: files and record counts per source."""

    out_dir: Path
    customers: int
    seed: int
    files: dict[str, list[Path]]  # source name → files written
    records: dict[str, int]  # source name → records written (including deliberately bad ones)
    bad_records: dict[str, int]  # source name → deliberately invalid records planted


def _write(table: SourceTable, out_dir: Path, customers: int) -> list[Path]:
    path = out_dir / SOURCE_FILES[table.name]
    if table.name == "crm":
        write_csv(table, path, encoding="utf-8-sig", crlf=True)
    elif table.name == "pos_orders":
        write_csv(table, path, encoding="gb18030", crlf=True)
    elif table.name in ("surveys", "referrals"):
        write_csv(table, path, encoding="utf-8", crlf=False)
    elif table.name == "online_orders":
        write_jsonl(table, path)
    elif table.name == "service_tickets":
        write_xlsx(table, path, sheet="工单")
    else:
        return write_parquet_parts(table, SCHEMA, path.parent, part_count(customers))
    return [path]


def generate_demo_data(
    out_dir: Path,
    *,
    customers: int = 5000,
    seed: int = 7,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> DemoManifest:
    """Write the seven demo sources into ``out_dir`` and the ground truth into ``out_dir/truth``.

    ``on_progress(step, done, total)`` is called after each of the steps (people, activity, one
    per source, truth).
    """
    if customers < 10:
        raise HuaxiangError(
            f"customers must be at least 10, got {customers} (客户数至少为 10)",
            hint="pass customers=300 or more for a meaningful demo (建议至少 300 位客户)",
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    done = 0

    def advance(step: str) -> None:
        nonlocal done
        done += 1
        logger.debug("demo data: %s done (%d/%d)", step, done, len(_STEPS))
        if on_progress is not None:
            on_progress(step, done, len(_STEPS))

    population = generate_people(customers, seed)
    catalog = build_catalog(random.Random(f"{seed}:catalog"))
    advance("people")
    activity = simulate(seed, population, catalog)
    advance("activity")

    builders: dict[str, Callable[[random.Random], SourceTable]] = {
        "crm": lambda rng: build_crm(rng, population),
        "online_orders": lambda rng: build_online_orders(rng, activity.orders),
        "pos_orders": lambda rng: build_pos_orders(rng, activity.orders),
        "web_events": lambda rng: build_web_events(rng, activity.events),
        "service_tickets": lambda rng: build_tickets(rng, activity.tickets),
        "surveys": lambda rng: build_surveys(rng, activity.surveys),
        "referrals": lambda rng: build_referrals(rng, activity.referrals),
    }
    tables: list[SourceTable] = []
    files: dict[str, list[Path]] = {}
    for name, build in builders.items():
        table = build(random.Random(f"{seed}:source:{name}"))
        files[name] = _write(table, out_dir, customers)
        tables.append(table)
        advance(name)
    write_truth(out_dir / "truth", population, tables)
    advance("truth")
    manifest = DemoManifest(
        out_dir=out_dir,
        customers=customers,
        seed=seed,
        files=files,
        records={t.name: len(t.records) for t in tables},
        bad_records={t.name: sum(r.bad for r in t.records) for t in tables},
    )
    logger.info(
        "demo data for %d customers written to %s: %d records",
        customers,
        out_dir,
        sum(manifest.records.values()),
    )
    return manifest
