"""Probabilistic matching on FEBRL and synthetic Chinese records: huaxiang beside hand-configured plain Splink.

huaxiang is configured only by the semantic type of each column; the plain Splink models are written by hand
for each data set (comparisons, blocking rules, training blocks), as a user of Splink would. Both are scored
with the same cluster metrics against the known truth and timed on the same DuckDB tables.

    uv run --frozen python benchmarks/identity_febrl.py            # all tasks
    uv run --frozen python benchmarks/identity_febrl.py --repeat 3 # best of three timings
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import splink.comparison_library as cl
from faker import Faker
from faker.providers.person.zh_CN import Provider as ChineseNames
from pypinyin import lazy_pinyin
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from huaxiang.identity import MatchField, MatchSettings, match_records, plan_matching
from huaxiang.identity.evaluation import LinkageMetrics, evaluate_clusters
from huaxiang.identity.probabilistic import LinkType

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("HUAXIANG_SHARED_DATA", PROJECT_ROOT.parent / "shared" / "data"))
U_SAMPLE_PAIRS = 1_000_000
SEED = 20240601

FEBRL_FIELDS = (
    MatchField("given_name", "given_name"),
    MatchField("surname", "family_name"),
    MatchField("street_number", "text"),
    MatchField("address_1", "street"),
    MatchField("address_2", "address"),
    MatchField("suburb", "city"),
    MatchField("postcode", "postcode"),
    MatchField("state", "state"),
    MatchField("date_of_birth", "birth_date"),
    MatchField("soc_sec_id", "id_number"),
)
CHINESE_FIELDS = (
    MatchField("name", "full_name"),
    MatchField("gender", "gender"),
    MatchField("birth_date", "birth_date"),
    MatchField("phone", "phone"),
    MatchField("city", "city"),
    MatchField("address", "address"),
)


@dataclass(frozen=True)
class Task:
    name: str
    tables: dict[str, pd.DataFrame]
    truth: dict[str, str]
    fields: tuple[MatchField, ...]
    plain_settings: Callable[[LinkType], SettingsCreator]
    plain_training: Callable[[Linker], None]

    @property
    def link_type(self) -> LinkType:
        return "dedupe_only" if len(self.tables) == 1 else "link_only"


# ------------------------------------------------------------------------------------------- data


def febrl(name: str) -> pd.DataFrame:
    path = SHARED_DATA / "febrl" / name
    if not path.is_file():
        sys.exit(f"{path} not found; set HUAXIANG_SHARED_DATA to the shared data folder")
    frame = pd.read_csv(path, skipinitialspace=True, dtype=str)
    return frame.rename(columns={"rec_id": "record_id"})


def febrl_truth(frame: pd.DataFrame) -> dict[str, str]:
    return {record: record.split("-")[1] for record in frame["record_id"]}


def split_originals(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    original = frame["record_id"].str.endswith("-org")
    return {
        "originals": frame[original].reset_index(drop=True),
        "duplicates": frame[~original].reset_index(drop=True),
    }


_LOOK_ALIKE = {
    "王": "玉",
    "玉": "王",
    "李": "季",
    "杨": "扬",
    "刘": "浏",
    "陈": "阵",
    "伟": "传",
    "明": "朋",
    "晴": "睛",
    "娜": "哪",
    "峰": "锋",
    "辉": "挥",
    "洋": "祥",
    "波": "坡",
    "鹏": "朋",
    "红": "虹",
    "霞": "暇",
    "军": "车",
    "林": "材",
    "静": "净",
    "刚": "钢",
    "丽": "郦",
    "杰": "木",
    "宇": "字",
}
_COMMON_NAMES = ["张伟", "王伟", "王芳", "李娜", "李伟", "刘洋", "王静", "张敏", "李静", "刘伟"]
_COMMON_CITIES = ["北京市", "上海市"]


def _homophones() -> dict[str, list[str]]:
    chars = {c for name in ChineseNames.first_names for c in name} | set(ChineseNames.last_names)
    groups: dict[str, list[str]] = defaultdict(list)
    for char in sorted(chars):
        groups[lazy_pinyin(char)[0]].append(char)
    return {c: [o for o in group if o != c] for group in groups.values() for c in group if len(group) > 1}


def _typo(digits: str, rng: random.Random) -> str:
    i = rng.randrange(len(digits) - 1)
    if rng.random() < 0.5:
        return digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]
    return digits[:i] + str((int(digits[i]) + rng.randint(1, 9)) % 10) + digits[i + 1 :]


def _corrupt(person: dict[str, Any], rng: random.Random, homophones: dict[str, list[str]]) -> dict[str, Any]:
    """A second record of the same person with one to three of the errors Chinese CRM data shows."""
    copy = dict(person)
    for kind in rng.sample(["name", "phone", "birth", "address", "city"], rng.choice([1, 2, 2, 3])):
        if kind == "name":
            name, how = copy["name"], rng.choice(["homophone", "look-alike", "pinyin"])
            spots = [
                i for i, c in enumerate(name) if c in (homophones if how == "homophone" else _LOOK_ALIKE)
            ]
            if how != "pinyin" and spots:
                i = rng.choice(spots)
                other = rng.choice(homophones[name[i]]) if how == "homophone" else _LOOK_ALIKE[name[i]]
                copy["name"] = name[:i] + other + name[i + 1 :]
            else:
                family, given = lazy_pinyin(name[0])[0], "".join(lazy_pinyin(name[1:]))
                copy["name"] = rng.choice(
                    [
                        f"{family.title()} {given.title()}",
                        f"{given.title()} {family.title()}",
                        f"{family.upper()} {given.title()}",
                        f"{family}{given}",
                    ]
                )
        elif kind == "phone":
            copy["phone"] = _typo(copy["phone"], rng) if rng.random() < 0.7 else None
        elif kind == "birth":
            born = copy["birth_date"]
            copy["birth_date"] = rng.choice(
                [
                    None,
                    born.replace("-", ""),
                    born.replace("-", "/"),
                    born[:-1] + str((int(born[-1]) + 1) % 10),
                ]
            )
        elif kind == "address" and copy["address"]:
            copy["address"] = rng.choice(
                [None, copy["address"].replace("座", ""), f"{person['city']}{copy['address']}"]
            )
        elif kind == "city":
            copy["city"] = None
    return copy


def chinese_people(people: int, seed: int) -> tuple[pd.DataFrame, dict[str, str]]:
    """Faker zh_CN people, a sixth of them sharing a few common names and two cities, half with duplicates."""
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    homophones = _homophones()
    rows: list[dict[str, Any]] = []
    truth: dict[str, str] = {}
    for i in range(people):
        gender = rng.choice("男女")
        if i % 6 == 0:
            name, city = rng.choice(_COMMON_NAMES), rng.choice(_COMMON_CITIES)
        else:
            given = fake.first_name_male() if gender == "男" else fake.first_name_female()
            name, city = fake.last_name() + given, fake.city()
        person = {
            "name": name,
            "gender": gender,
            "birth_date": fake.date_of_birth(minimum_age=18, maximum_age=85).isoformat(),
            "phone": fake.phone_number(),
            "city": city,
            "address": fake.street_address(),
        }
        copies = [person] + [_corrupt(person, rng, homophones) for _ in range(rng.choice([0, 0, 1, 1, 2]))]
        for k, record in enumerate(copies):
            record_id = f"p{i}-{'org' if k == 0 else f'dup-{k}'}"
            rows.append({"record_id": record_id, **record})
            truth[record_id] = f"p{i}"
    return pd.DataFrame(rows), truth


# ------------------------------------------------------------------------------------------- plain Splink


def febrl_plain_settings(link_type: LinkType) -> SettingsCreator:
    return SettingsCreator(
        link_type=link_type,
        unique_id_column_name="record_id",
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            block_on("surname", "date_of_birth"),
            block_on("given_name", "date_of_birth"),
            block_on("soc_sec_id"),
            block_on("postcode", "street_number"),
            block_on("date_of_birth", "postcode"),
        ],
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("postcode", [1]).configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("suburb", [0.9]).configure(term_frequency_adjustments=True),
            cl.ExactMatch("state"),
        ],
    )


def febrl_plain_training(linker: Linker) -> None:
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth"), block_on("soc_sec_id", "date_of_birth")],
        recall=0.7,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=U_SAMPLE_PAIRS, seed=SEED)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))


def chinese_plain_settings(link_type: LinkType) -> SettingsCreator:
    return SettingsCreator(
        link_type=link_type,
        unique_id_column_name="record_id",
        blocking_rules_to_generate_predictions=[
            block_on("phone"),
            block_on("name", "birth_date"),
            block_on("name", "city"),
            block_on("birth_date", "city"),
        ],
        comparisons=[
            cl.NameComparison("name").configure(term_frequency_adjustments=True),
            cl.ExactMatch("gender"),
            cl.LevenshteinAtThresholds("birth_date", [1]),
            cl.DamerauLevenshteinAtThresholds("phone", [1, 2]),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("address", [0.9, 0.75]),
        ],
    )


def chinese_plain_training(linker: Linker) -> None:
    linker.training.estimate_probability_two_random_records_match(
        [block_on("name", "birth_date"), block_on("phone", "birth_date")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=U_SAMPLE_PAIRS, seed=SEED)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth_date"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("phone"))


# ------------------------------------------------------------------------------------------- runs


def load(con: duckdb.DuckDBPyConnection, task: Task) -> list[str]:
    names = []
    for name, frame in task.tables.items():
        table = frame.assign(source_dataset=name) if len(task.tables) > 1 else frame
        con.register("incoming", pa.Table.from_pandas(table, preserve_index=False))
        con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM incoming').fetchall()
        con.unregister("incoming")
        names.append(name)
    return names


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float  # process CPU time over all threads: steadier than wall time on a shared machine


def run_huaxiang(task: Task) -> tuple[dict[str, str], Timing]:
    con = duckdb.connect()
    tables = load(con, task)
    started, cpu = time.perf_counter(), time.process_time()
    plan = plan_matching(task.fields, link_type=task.link_type)
    result = match_records(
        con, tables, plan, MatchSettings(task.fields, u_sample_pairs=U_SAMPLE_PAIRS, seed=SEED)
    )
    elapsed = Timing(time.perf_counter() - started, time.process_time() - cpu)
    clusters = result.clusters.to_pydict()
    for warning in result.warnings:
        print(f"    [{task.name}] {warning.en}")
    return dict(zip(clusters["record_id"], clusters["cluster_id"], strict=True)), elapsed


def run_plain(task: Task) -> tuple[dict[str, str], Timing]:
    con = duckdb.connect()
    tables = load(con, task)
    started, cpu = time.perf_counter(), time.process_time()
    db_api = DuckDBAPI(con)
    frames = [db_api.register(name) for name in tables]
    linker = Linker(
        frames if len(frames) > 1 else frames[0], task.plain_settings(task.link_type), log_level=logging.ERROR
    )
    task.plain_training(linker)
    predictions = linker.inference.predict(threshold_match_probability=0.9)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.9)
    rows = con.sql(f"SELECT record_id, cluster_id FROM {clusters.physical_name}").fetchall()
    elapsed = Timing(time.perf_counter() - started, time.process_time() - cpu)
    return dict(rows), elapsed


def tasks(people: int) -> list[Task]:
    first, second = febrl("dataset1.csv"), febrl("dataset2.csv")
    chinese, chinese_truth = chinese_people(people, SEED)
    febrl_kwargs: dict[str, Any] = {
        "fields": FEBRL_FIELDS,
        "plain_settings": febrl_plain_settings,
        "plain_training": febrl_plain_training,
    }
    chinese_kwargs: dict[str, Any] = {
        "fields": CHINESE_FIELDS,
        "plain_settings": chinese_plain_settings,
        "plain_training": chinese_plain_training,
    }
    return [
        Task("febrl1 dedupe", {"febrl1": first}, febrl_truth(first), **febrl_kwargs),
        Task("febrl2 dedupe", {"febrl2": second}, febrl_truth(second), **febrl_kwargs),
        Task("febrl1 link", split_originals(first), febrl_truth(first), **febrl_kwargs),
        Task("febrl2 link", split_originals(second), febrl_truth(second), **febrl_kwargs),
        Task("zh-synthetic dedupe", {"people": chinese}, chinese_truth, **chinese_kwargs),
        Task("zh-synthetic link", split_originals(chinese), chinese_truth, **chinese_kwargs),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeat", type=int, default=1, help="run each method this many times, keep the fastest"
    )
    parser.add_argument("--people", type=int, default=2000, help="people in the synthetic Chinese data")
    parser.add_argument("--only", help="run only tasks whose name contains this text")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    header = (
        f"{'task':22} {'records':>7} {'method':9} {'P':>6} {'R':>6} {'F1':>6} {'B3-F1':>6} {'ARI':>6} "
        f"{'wall s':>7} {'cpu s':>7}"
    )
    lines = [header, "-" * len(header)]
    ratios: list[tuple[str, float, float]] = []
    runs = {"huaxiang": run_huaxiang, "splink": run_plain}
    for task in tasks(args.people):
        if args.only and args.only not in task.name:
            continue
        best: dict[str, Timing] = {}
        metrics: dict[str, LinkageMetrics] = {}
        for attempt in range(args.repeat):
            order = list(runs) if attempt % 2 == 0 else list(reversed(runs))  # alternate, so load hits both
            for method in order:
                clusters, timing = runs[method](task)
                metrics[method] = evaluate_clusters(clusters, task.truth)
                previous = best.get(method, timing)
                best[method] = Timing(min(previous.wall, timing.wall), min(previous.cpu, timing.cpu))
        for method in runs:
            m, t = metrics[method], best[method]
            lines.append(
                f"{task.name:22} {m.records:7d} {method:9} {m.precision:6.3f} {m.recall:6.3f} {m.f1:6.3f} "
                f"{m.bcubed_f1:6.3f} {m.adjusted_rand_index:6.3f} {t.wall:7.1f} {t.cpu:7.1f}"
            )
        ratios.append(
            (
                task.name,
                best["huaxiang"].wall / best["splink"].wall,
                best["huaxiang"].cpu / best["splink"].cpu,
            )
        )
        print("\n".join(lines[-2:]), flush=True)
    print()
    print("\n".join(lines))
    print("\nhuaxiang / plain Splink, best of", args.repeat)
    for name, wall, cpu in ratios:
        print(f"  {name:22} wall {wall:4.2f}x  cpu {cpu:4.2f}x")


if __name__ == "__main__":
    main()
