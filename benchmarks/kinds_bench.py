"""Per-value cost of each value kind: the Python normaliser and the DuckDB fast path.

Run with ``uv run --frozen python -m benchmarks.kinds_bench [--values N]``. Values are generated with a
fixed seed, mostly in the regular shapes a fast path takes plus a share of irregular ones. ``address`` is
timed on fewer values (jionlp takes milliseconds each); its per-value figure is still comparable. Addresses
are the demo's (real districts and roads, a house number and often a flat each), and a second table times
the address kind, which reuses a district-level prefix jionlp has resolved, against jionlp called directly
on the same addresses.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

import duckdb
import pyarrow as pa
from rich.console import Console
from rich.table import Table

from huaxiang.demo.places import cities, street_address
from huaxiang.ingest.kinds import KIND_NAMES, ValueContext, kind_named
from huaxiang.ingest.kinds._jionlp import jionlp_module
from huaxiang.ingest.kinds.address import AddressKind

Generator = Callable[[random.Random], str]


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choices("0123456789", k=count))


def _phone(rng: random.Random) -> str:
    number = rng.choice(["138", "139", "150", "186", "199"]) + _digits(rng, 8)
    return rng.choice([number, number, number, f"{number[:3]} {number[3:7]} {number[7:]}", "+86-" + number])


def _id_card(rng: random.Random) -> str:
    from stdnum.cn import ric

    body = (
        rng.choice(["110101", "110102", "110105", "110106"])
        + f"{rng.randint(1950, 2005)}0{rng.randint(1, 9)}"
    )
    body += f"{rng.randint(10, 28)}{rng.randint(0, 999):03d}"
    return body + ric.calc_check_digit(body + "0")


def _timestamp(rng: random.Random) -> str:
    moment = time.gmtime(rng.randint(1_300_000_000, 1_750_000_000))
    return time.strftime(rng.choice(["%Y-%m-%d %H:%M:%S"] * 4 + ["%Y/%m/%d %H:%M", "%d %b %Y %H:%M"]), moment)


def _address(rng: random.Random) -> str:
    city = rng.choice(cities())
    return street_address(city, rng.choice(city.districts), rng)


GENERATORS: dict[str, Generator] = {
    "string": lambda rng: (
        rng.choice(["VIP", "上海分公司", "Ｇｏｌｄ", "silver  member"]) + str(rng.randint(0, 999))
    ),
    "name": lambda rng: (
        rng.choice("张王李赵刘陈") + rng.choice(["伟", "芳", "娜", "敏静", "Lei"]) + str(rng.randint(0, 9))
    ),
    "text": lambda rng: rng.choice(["物流很快，好评！", " great product ", "质量一般\n"]) + str(rng.random()),
    "phone": _phone,
    "email": lambda rng: (
        f"user{rng.randint(0, 10**6)}@" + rng.choice(["qq.com", "163.com", "GMAIL.com", "例子.中国"])
    ),
    "id_card": _id_card,
    "gender": lambda rng: rng.choice(["男", "女", "M", "F", "male", "未知", "Ｆ"]),
    "address": _address,
    "amount": lambda rng: rng.choice(["¥{:,.2f}", "{:.2f}", "{:.1f}元", "RMB {:.2f}"]).format(
        rng.uniform(-100, 1e5)
    ),
    "integer": lambda rng: rng.choice(["{}", "{:,}", "{}.0"]).format(rng.randint(-(10**6), 10**9)),
    "number": lambda rng: rng.choice(["{}", "{:.3f}", "{:e}"]).format(rng.uniform(-1e6, 1e6)),
    "boolean": lambda rng: rng.choice(["true", "false", "是", "否", "Y", "n", "1"]),
    "date": lambda rng: time.strftime(
        rng.choice(["%Y-%m-%d"] * 4 + ["%Y/%m/%d", "%d %b %Y"]), time.gmtime(rng.randint(0, 1_750_000_000))
    ),
    "timestamp": _timestamp,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--values", type=int, default=100_000)
    parser.add_argument("--address-values", type=int, default=2_000)
    args = parser.parse_args()
    ctx = ValueContext()
    con = duckdb.connect()
    table = Table(title=f"Value kinds: per-value cost ({args.values:,} generated values; 2 cores)")
    for column in ["kind", "values", "Python µs/value", "fast path hits", "SQL µs/value", "invalid"]:
        table.add_column(column, justify="left" if column == "kind" else "right")
    for name in KIND_NAMES:
        rng = random.Random(name)
        count = args.address_values if name == "address" else args.values
        values = [GENERATORS[name](rng) for _ in range(count)]
        kind = kind_named(name)
        kind.normalise(values[0], ctx)  # lazy imports are not part of the per-value cost
        started = time.perf_counter()
        results = [kind.normalise(value, ctx) for value in values]
        python_us = (time.perf_counter() - started) / count * 1e6
        invalid = sum(result.error is not None for result in results)
        expression = kind.sql_fast_path("v", ctx)
        hits, sql_us = "-", "-"
        if expression is not None:
            con.register("raw_values", pa.table({"v": values}))
            started = time.perf_counter()
            con.execute(f"CREATE OR REPLACE TABLE fast AS SELECT {expression} AS x FROM raw_values")
            sql_us = f"{(time.perf_counter() - started) / count * 1e6:.2f}"
            hits = f"{con.sql('SELECT count(x) FROM fast').fetchone()[0] / count:.0%}"  # type: ignore[index]
            con.unregister("raw_values")
        table.add_row(name, f"{count:,}", f"{python_us:.1f}", hits, sql_us, f"{invalid / count:.1%}")
    Console().print(table)
    Console().print(_addresses(args.address_values, ctx))


def _addresses(count: int, ctx: ValueContext) -> Table:
    """A fresh address kind (no prefix resolved yet) against jionlp on every address."""
    rng = random.Random("addresses")
    values = [_address(rng) for _ in range(count)]
    parse = jionlp_module().parse_location
    started = time.perf_counter()
    direct = [parse(value, town_village=False, change2new=True) for value in values]
    direct_s = time.perf_counter() - started
    kind = AddressKind()
    started = time.perf_counter()
    ours = [kind.normalise(value, ctx) for value in values]
    ours_s = time.perf_counter() - started
    agree = sum(
        o.value == d["full_location"] and dict(o.derived)["district"] == d["county"]
        for o, d in zip(ours, direct, strict=True)
    )
    table = Table(title=f"Addresses: {count:,} demo addresses, {len(set(values)):,} distinct")
    for column in ["parser", "seconds", "addresses/s", "same answer as jionlp"]:
        table.add_column(column, justify="left" if column == "parser" else "right")
    table.add_row(
        "jionlp.parse_location on every address", f"{direct_s:.2f}", f"{count / direct_s:,.0f}", "-"
    )
    table.add_row("address kind", f"{ours_s:.2f}", f"{count / ours_s:,.0f}", f"{agree:,} of {count:,}")
    return table


if __name__ == "__main__":
    main()
