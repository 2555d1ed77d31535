"""The catalogue: the standard library, user definitions, their checks and their documentation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from huaxiang.config import Config, LifecycleSpec, parse_config
from huaxiang.demo import demo_sources_yaml
from huaxiang.errors import ConfigError, HuaxiangError
from huaxiang.tags import load_catalogue, standard_library

DOCS = Path(__file__).resolve().parents[2] / "docs" / "tags.md"
SOURCE = """\
sources:
  - name: shop
    format: csv
    path: d.csv
    event_type: purchase
    fields:
      - {column: id, role: identifier, name: user_id}
      - {column: amount, name: amount, kind: amount}
      - {column: rating, name: rating}
"""


def config(extra: str = "", sources: str = SOURCE) -> Config:
    return parse_config(sources + extra)


def test_the_standard_library_is_large_enough_and_valid_everywhere() -> None:
    catalogue = load_catalogue(parse_config(""))  # a workspace with no sources at all
    assert len(catalogue.traits) >= 60 and len(catalogue.tags) >= 40
    assert catalogue.skipped == ()
    assert {t.dimension for t in catalogue.tags} == {
        "demographic",
        "behavior",
        "interest",
        "social",
        "lifecycle",
        "value",
        "risk",
    }


def test_the_demo_workspace_uses_the_whole_library() -> None:
    catalogue = load_catalogue(parse_config(demo_sources_yaml()))
    assert catalogue.skipped == ()
    assert not [f for f in catalogue.fields.values() if f.location == "absent"]


def test_every_standard_trait_and_tag_is_documented() -> None:
    documented = set(re.findall(r"^\| `([a-z0-9_]+)` \|", DOCS.read_text(encoding="utf-8"), flags=re.M))
    library = standard_library(LifecycleSpec())
    missing = {t.name for t in library.traits} | {t.name for t in library.tags}
    assert missing - documented == set()


def test_a_field_mapped_with_another_type_skips_what_reads_it_with_the_reason() -> None:
    catalogue = load_catalogue(config())  # rating is mapped as text here, the library wants a number
    skipped = {(s.what, s.name) for s in catalogue.skipped}
    assert ("trait", "avg_rating") in skipped  # an average of text
    assert ("trait", "min_rating") not in skipped  # text has an order: still valid
    assert ("tag", "low_rating") in skipped and ("tag", "churn_risk") in skipped  # read skipped traits
    assert all(s.reason for s in catalogue.skipped)
    assert "lifecycle_stage" in {t.name for t in catalogue.tags}


def test_user_definitions_are_checked_with_their_location() -> None:
    with pytest.raises(HuaxiangError) as raised:
        load_catalogue(config("traits:\n  definitions:\n    - {name: spend, agg: sum, of: amout}\n"))
    assert "huaxiang.yaml traits.definitions[0].of" in str(raised.value)
    assert "did you mean amount" in str(raised.value)


def test_a_tag_cannot_take_a_traits_name() -> None:
    extra = "tags:\n  definitions:\n    - {name: spend_total, dimension: value, of: 'TRUE', value_type: boolean, label: {zh: x, en: x}}\n"
    with pytest.raises(ConfigError, match="already a trait"):
        load_catalogue(config(extra))


def test_tags_reading_each_other_in_a_cycle_are_refused() -> None:
    extra = """tags:
  standard: false
  definitions:
    - {name: a, dimension: value, value_type: boolean, of: "b", label: {zh: a, en: a}}
    - {name: b, dimension: value, value_type: boolean, of: "a", label: {zh: b, en: b}}
"""
    with pytest.raises(ConfigError, match="cycle"):
        load_catalogue(config(extra))


def test_rule_values_must_fit_the_value_type() -> None:
    extra = """tags:
  definitions:
    - name: big
      dimension: value
      value_type: number
      cases: [{value: yes please, when: "spend_total > 100"}]
      label: {zh: 大, en: Big}
"""
    with pytest.raises(ConfigError, match="does not fit value_type number"):
        load_catalogue(config(extra))


def test_an_expression_of_the_wrong_type_is_refused() -> None:
    extra = "tags:\n  definitions:\n    - {name: t, dimension: value, value_type: boolean, of: spend_total, label: {zh: t, en: t}}\n"
    with pytest.raises(ConfigError, match="value_type: number"):
        load_catalogue(config(extra))


@pytest.mark.parametrize(
    ("yaml_text", "where", "message"),
    [
        (
            'traits:\n  definitions:\n    - name: t\n      agg: count\n      where: "1; DROP TABLE events"\n',
            "huaxiang.yaml:14 traits.definitions[0].where",
            "only one expression",
        ),
        ("traits:\n  definitions:\n    - {name: t, agg: sum}\n", "traits.definitions[0]", "needs `of`"),
        (
            "traits:\n  definitions:\n    - {name: t, agg: count, window: '-7'}\n",
            "window",
            "expected a duration",
        ),
        (
            "tags:\n  definitions:\n    - {name: t, dimension: value, of: x, cases: [{value: a, when: x}], label: {zh: t, en: t}}\n",
            "tags.definitions[0]",
            "exactly one of",
        ),
        (
            "tags:\n  definitions:\n    - {name: t, dimension: mood, of: x, label: {zh: t, en: t}}\n",
            "dimension",
            "demographic",
        ),
        (
            "tags:\n  lifecycle: {active_days: 200, at_risk_days: 100}\n",
            "tags.lifecycle",
            "active_days < at_risk_days",
        ),
    ],
)
def test_config_errors_point_at_the_key(yaml_text: str, where: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(SOURCE + yaml_text)
    assert where in str(raised.value)
    assert message in str(raised.value)
