"""Probabilistic matching planned from semantic types alone, run through Splink on real DuckDB."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
from faker import Faker
from faker.providers.person.zh_CN import Provider as ChineseNames
from hypothesis import given, settings
from hypothesis import strategies as st
from pypinyin import lazy_pinyin

from huaxiang.errors import ConfigError
from huaxiang.identity import (
    MatchField,
    MatchingError,
    MatchPlan,
    MatchResult,
    MatchSettings,
    evaluate_clusters,
    match_records,
    plan_matching,
)
from huaxiang.identity.name_similarity import name_key
from huaxiang.identity.semantic_types import SEMANTIC_TYPES, correlated
from tests.conftest import shared_data

FAST = {"u_sample_pairs": 200_000, "seed": 7}
CHINESE_FIELDS = (
    MatchField("name", "full_name"),
    MatchField("gender", "gender"),
    MatchField("birth_date", "birth_date"),
    MatchField("phone", "phone"),
    MatchField("city", "city"),
    MatchField("address", "address"),
)
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


# ------------------------------------------------------------------------------------------- the plan


def test_every_field_is_compared_and_the_plan_explains_itself_in_both_languages() -> None:
    plan = plan_matching(FEBRL_FIELDS, link_type="dedupe_only")
    assert [c.field.field for c in plan.comparisons] == list(FEBRL_FIELDS)
    assert all(c.levels for c in plan.comparisons)
    assert plan.prediction_rules and plan.training_passes and plan.deterministic_rules
    english, chinese = plan.explain("en"), plan.explain("zh")
    assert "EM training blocks" in english and "EM 训练分块" in chinese
    assert all(f.column in english for f in FEBRL_FIELDS)


def _plan_or_hint(fields: tuple[MatchField, ...]) -> MatchPlan | str:
    try:
        return plan_matching(fields, link_type="dedupe_only")
    except ConfigError as error:
        return error.hint or ""


@given(st.lists(st.sampled_from(SEMANTIC_TYPES), min_size=1, max_size=8))
@settings(max_examples=150, deadline=None)
def test_no_training_block_estimates_a_field_that_moves_with_it(types: list[Any]) -> None:
    fields = tuple(MatchField(f"c{i}", t) for i, t in enumerate(types))
    plan = _plan_or_hint(fields)
    if isinstance(plan, str):
        assert plan  # too few usable fields: rejected with a hint naming what to add
        return
    by_column = {p.block_key: p for p in plan.fields}
    prepared = {c for p in plan.fields for c in (p.name, p.key, p.sorted_parts) if c}
    for training in plan.training_passes:
        blocked = [by_column[c].semantic_type for c in training.block_on]
        for p in plan.fields:
            if any(correlated(p.semantic_type, t) for t in blocked):
                assert p.name in training.not_estimated
    for rule in (*plan.prediction_rules, *plan.deterministic_rules):
        assert set(rule.columns) <= prepared


def test_email_sits_out_of_the_pass_blocked_on_the_name() -> None:
    fields = (
        MatchField("first", "given_name"),
        MatchField("last", "family_name"),
        MatchField("email", "email"),
        MatchField("dob", "birth_date"),
    )
    plan = plan_matching(fields, link_type="link_only")
    name_pass = next(t for t in plan.training_passes if t.block_on == ("first_key", "last_key"))
    assert set(name_pass.not_estimated) == {"first", "last", "email"}
    estimated = {p.name for t in plan.training_passes for p in plan.fields if p.name not in t.not_estimated}
    assert estimated == {"first", "last", "email", "dob"}


@pytest.mark.parametrize(
    ("fields", "link_type", "message"),
    [
        ((), "dedupe_only", "at least one field"),
        ((MatchField("a", "phone"), MatchField("a", "email")), "dedupe_only", "declared twice"),
        ((MatchField("a", "phone"),), "merge", "unknown link type"),
    ],
)
def test_bad_declarations_are_config_errors(
    fields: tuple[MatchField, ...], link_type: Any, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        plan_matching(fields, link_type=link_type)


@pytest.mark.parametrize("types", [("phone",), ("gender", "text"), ("state", "street")])
def test_fields_that_cannot_block_or_train_are_rejected_at_planning(types: tuple[Any, ...]) -> None:
    with pytest.raises(ConfigError, match="nothing to pair records on"):
        plan_matching(tuple(MatchField(f"c{i}", t) for i, t in enumerate(types)), link_type="dedupe_only")


def test_two_independent_fields_are_enough_to_plan() -> None:
    plan = plan_matching(
        (MatchField("n", "full_name"), MatchField("b", "birth_date")), link_type="dedupe_only"
    )
    assert {t.block_on for t in plan.training_passes} == {("b",), ("n_parts",)}


def test_unknown_semantic_types_and_thresholds_are_rejected() -> None:
    with pytest.raises(ConfigError, match="unknown semantic type"):
        MatchField("mobile", "mobile")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="between 0 and 1"):
        MatchSettings((MatchField("a", "phone"),), threshold=1.0)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("张伟", "章伟"),
        ("张伟", "Zhang Wei"),
        ("张伟", "Wei Zhang"),
        ("韦淑英", "Shuying WEI"),
        ("欧阳娜娜", "Nana Ouyang"),
    ],
)
def test_homophones_and_pinyin_spellings_share_a_name_key(a: str, b: str) -> None:
    assert name_key(a).sorted_parts == name_key(b).sorted_parts


def test_a_family_name_is_read_as_a_surname() -> None:
    assert name_key("曾", role="family").key == "zeng"
    assert name_key("曾小明").key == "zengxiaoming"
    assert name_key("王伟").key != name_key("玉伟").key  # look-alikes are told apart by the character level


# ------------------------------------------------------------------------------------------- synthetic Chinese data

_LOOK_ALIKE = {
    "王": "玉",
    "李": "季",
    "杨": "扬",
    "刘": "浏",
    "陈": "阵",
    "伟": "传",
    "明": "朋",
    "峰": "锋",
    "红": "虹",
}
_COMMON_NAMES = ["张伟", "王伟", "王芳", "李娜", "李伟", "刘洋"]
_COMMON_CITIES = ["北京市", "上海市"]


def _homophones() -> dict[str, list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for char in sorted({c for name in ChineseNames.first_names for c in name} | set(ChineseNames.last_names)):
        groups[lazy_pinyin(char)[0]].append(char)
    return {c: [o for o in g if o != c] for g in groups.values() for c in g if len(g) > 1}


def _corrupt(person: dict[str, Any], rng: random.Random, homophones: dict[str, list[str]]) -> dict[str, Any]:
    copy = dict(person)
    for kind in rng.sample(["name", "phone", "birth", "address"], rng.choice([1, 2])):
        if kind == "name":
            name = copy["name"]
            swaps = [(i, rng.choice(homophones[c])) for i, c in enumerate(name) if c in homophones]
            swaps += [(i, _LOOK_ALIKE[c]) for i, c in enumerate(name) if c in _LOOK_ALIKE]
            if swaps and rng.random() < 0.7:
                i, other = rng.choice(swaps)
                copy["name"] = name[:i] + other + name[i + 1 :]
            else:
                copy["name"] = f"{lazy_pinyin(name[0])[0].title()} {''.join(lazy_pinyin(name[1:])).title()}"
        elif kind == "phone":
            digits, i = copy["phone"], rng.randrange(10)
            copy["phone"] = digits[:i] + str((int(digits[i]) + 1) % 10) + digits[i + 1 :]
        elif kind == "birth":
            copy["birth_date"] = rng.choice([None, copy["birth_date"].replace("-", "")])
        else:
            copy["address"] = rng.choice([None, copy["address"].replace("座", "")])
    return copy


def chinese_people(people: int, seed: int) -> tuple[pd.DataFrame, dict[str, str]]:
    """People from Faker zh_CN, every fifth with a common name in one of two cities, half with a corrupted copy."""
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    homophones = _homophones()
    rows, truth = [], {}
    for i in range(people):
        gender = rng.choice("男女")
        if i % 5 == 0:
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
        copies = [person] + ([_corrupt(person, rng, homophones)] if rng.random() < 0.5 else [])
        for k, record in enumerate(copies):
            rows.append({"record_id": f"p{i}-{k}", **record})
            truth[f"p{i}-{k}"] = f"p{i}"
    return pd.DataFrame(rows), truth


HAND_MADE = [  # one person written three ways, and a namesake in the same city
    {"record_id": "zw-1", "name": "张伟", "gender": "男", "birth_date": "1985-03-12", "phone": "13812345678",
     "city": "杭州市", "address": "文三路90号"},
    {"record_id": "zw-2", "name": "章伟", "gender": "男", "birth_date": "19850312", "phone": "13812345687",
     "city": "杭州市", "address": "文三路90号"},
    {"record_id": "zw-3", "name": "Zhang Wei", "gender": "男", "birth_date": "1985-03-12", "phone": "13812345678",
     "city": None, "address": "杭州市文三路90号"},
    {"record_id": "zw-other", "name": "张伟", "gender": "男", "birth_date": "1990-07-01", "phone": "13998765432",
     "city": "杭州市", "address": "延安路12号"},
]  # fmt: skip


@dataclass(frozen=True)
class Run:
    frame: pd.DataFrame
    truth: dict[str, str]
    result: MatchResult
    clusters: dict[str, str]


def _load(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> None:
    con.register("incoming", pa.Table.from_pandas(frame, preserve_index=False))
    con.execute(f"CREATE TABLE {name} AS SELECT * FROM incoming")
    con.unregister("incoming")


def _catalogue(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    tables = con.sql("SELECT 'table', table_name FROM duckdb_tables()").fetchall()
    views = con.sql("SELECT 'view', view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    return {(kind, name) for kind, name in tables + views}


@pytest.fixture(scope="module")
def chinese_run() -> Run:
    frame, truth = chinese_people(300, seed=11)
    frame = pd.concat([frame, pd.DataFrame(HAND_MADE)], ignore_index=True)
    truth |= {"zw-1": "zw", "zw-2": "zw", "zw-3": "zw", "zw-other": "zw-other"}
    with duckdb.connect() as con:
        _load(con, "people", frame)
        before = _catalogue(con)
        result = match_records(
            con,
            ["people"],
            plan_matching(CHINESE_FIELDS, link_type="dedupe_only"),
            MatchSettings(CHINESE_FIELDS, **FAST),
        )
        assert _catalogue(con) == before  # prepared tables, Splink's tables and views are all gone
        assert con.sql("SELECT count(*) FROM people").fetchall() == [(len(frame),)]
    clusters = result.clusters.to_pydict()
    return Run(frame, truth, result, dict(zip(clusters["record_id"], clusters["cluster_id"], strict=True)))


def test_chinese_duplicates_are_linked_with_high_precision_and_recall(chinese_run: Run) -> None:
    metrics = evaluate_clusters(chinese_run.clusters, chinese_run.truth)
    assert metrics.precision >= 0.97
    assert metrics.recall >= 0.95


def test_homophone_and_pinyin_spellings_of_one_person_are_linked(chinese_run: Run) -> None:
    clusters = chinese_run.clusters
    assert clusters["zw-1"] == clusters["zw-2"] == clusters["zw-3"]


def test_people_who_only_share_a_common_name_and_city_stay_apart(chinese_run: Run) -> None:
    frame, clusters, truth = chinese_run.frame, chinese_run.clusters, chinese_run.truth
    namesakes = 0
    for _, group in frame[frame["name"].isin(_COMMON_NAMES)].groupby(["name", "city"]):
        ids = list(group["record_id"])
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                if truth[a] != truth[b]:
                    namesakes += 1
                    assert clusters[a] != clusters[b], (a, b)
    assert namesakes > 20  # the data really holds many namesakes
    assert clusters["zw-other"] != clusters["zw-1"]


def test_the_trained_model_rewards_agreement_and_reports_its_pairs(chinese_run: Run) -> None:
    result = chinese_run.result
    by_comparison: dict[str, list[float]] = defaultdict(list)
    for estimate in result.parameters:
        assert estimate.match_weight is not None
        by_comparison[estimate.comparison].append(estimate.match_weight)
    assert set(by_comparison) == {f.column for f in CHINESE_FIELDS}
    for weights in by_comparison.values():
        assert weights[0] > 0 > weights[-1]  # full agreement counts for a match, disagreement against
    assert 0 < result.probability_two_random_records_match < 0.01
    assert 0 < result.deterministic_recall <= 1
    probabilities = result.pairs.column("match_probability").to_pylist()
    assert probabilities and min(probabilities) >= 0.9
    assert set(result.pairs.column_names) >= {"record_id_l", "record_id_r", "match_weight"}


def test_linking_two_tables_matches_across_them_whatever_the_column_names() -> None:
    frame, truth = chinese_people(200, seed=5)
    chinese = {
        "name": "姓名",
        "gender": "性别",
        "birth_date": "出生日期",
        "phone": "手机",
        "city": "城市",
        "address": "地址",
    }
    frame = frame.rename(columns=chinese)
    fields = tuple(MatchField(chinese[f.column], f.semantic_type) for f in CHINESE_FIELDS)
    originals = frame[frame["record_id"].str.endswith("-0")]
    copies = frame[~frame["record_id"].str.endswith("-0")]
    with duckdb.connect() as con:
        _load(con, "crm", originals)
        _load(con, "shop", copies)  # no source_dataset column: the table names stand in
        result = match_records(
            con, ["crm", "shop"], plan_matching(fields, link_type="link_only"), MatchSettings(fields, **FAST)
        )
    pairs = result.pairs.to_pydict()
    assert all(
        left != right
        for left, right in zip(pairs["source_dataset_l"], pairs["source_dataset_r"], strict=True)
    )
    assert {p.comparison for p in result.parameters} == set(chinese.values())
    clusters = result.clusters.to_pydict()
    metrics = evaluate_clusters(dict(zip(clusters["record_id"], clusters["cluster_id"], strict=True)), truth)
    assert metrics.precision >= 0.97
    assert metrics.recall >= 0.95


def test_a_table_without_duplicates_yields_no_links() -> None:
    frame, _ = chinese_people(150, seed=3)
    with duckdb.connect() as con:
        _load(con, "people", frame[frame["record_id"].str.endswith("-0")])
        result = match_records(
            con,
            ["people"],
            plan_matching(CHINESE_FIELDS, link_type="dedupe_only"),
            MatchSettings(CHINESE_FIELDS, **FAST),
        )
    assert result.pairs.num_rows == 0
    assert result.clusters.num_rows == 150


# ------------------------------------------------------------------------------------------- FEBRL


def test_febrl_dataset1_is_deduplicated_from_semantic_types_alone() -> None:
    path = shared_data() / "febrl" / "dataset1.csv"
    frame = pd.read_csv(path, skipinitialspace=True, dtype=str).rename(columns={"rec_id": "record_id"})
    truth = {r: r.split("-")[1] for r in frame["record_id"]}
    with duckdb.connect() as con:
        _load(con, "febrl", frame)
        result = match_records(
            con,
            ["febrl"],
            plan_matching(FEBRL_FIELDS, link_type="dedupe_only"),
            MatchSettings(FEBRL_FIELDS, **FAST),
        )
    clusters = result.clusters.to_pydict()
    metrics = evaluate_clusters(dict(zip(clusters["record_id"], clusters["cluster_id"], strict=True)), truth)
    assert metrics.precision >= 0.97
    assert metrics.recall >= 0.97


# ------------------------------------------------------------------------------------------- bad input


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect() as connection:
        connection.execute("CREATE TABLE t (record_id INTEGER, phone VARCHAR, name VARCHAR)")
        connection.execute("INSERT INTO t VALUES (1, '13800000000', '李娜'), (1, '13900000000', '王芳')")
        yield connection


def test_input_problems_are_reported_with_their_table(con: duckdb.DuckDBPyConnection) -> None:
    fields = (MatchField("phone", "phone"), MatchField("name", "full_name"))
    plan, settings = plan_matching(fields, link_type="dedupe_only"), MatchSettings(fields)
    with pytest.raises(MatchingError, match="not unique"):
        match_records(con, ["t"], plan, settings)
    with pytest.raises(MatchingError, match="does not exist"):
        match_records(con, ["missing"], plan, settings)
    with pytest.raises(MatchingError, match="needs one table"):
        match_records(con, ["t", "t"], plan, settings)
    other = (MatchField("phone", "phone"), MatchField("email", "email"))
    with pytest.raises(MatchingError, match="lacks the column"):
        match_records(con, ["t"], plan_matching(other, link_type="dedupe_only"), MatchSettings(other))
    with pytest.raises(ConfigError, match="other fields"):
        match_records(con, ["t"], plan, MatchSettings(other))
