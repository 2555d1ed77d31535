"""Every aggregation, window, filter and attribute-precedence rule on a real ingested workspace (DuckDB).

Expected values are worked out by hand from the rows in ``tests/traits/shop.py``; both evaluators must
produce them (the batch compiler over the warehouse, the incremental one over the same events).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import pytest

from huaxiang.config import TraitSpec
from huaxiang.errors import ConfigError
from huaxiang.expressions import EvaluationContext, ExpressionError
from huaxiang.traits import (
    EventRecord,
    Trait,
    compile_traits,
    evaluate_traits,
    event_fields,
    resolve_trait,
    typed_events,
)
from huaxiang.workspace import Workspace
from tests.conftest import MakeWorkspace
from tests.traits.shop import shop_workspace

ZONE = ZoneInfo("Asia/Shanghai")
AS_OF = datetime(2024, 3, 31, 16)  # the end of 31 March in Shanghai, in UTC
BOUGHT = "type = 'purchase' AND status <> 'refunded'"

SPECS = {
    "events": TraitSpec(name="events", agg="count"),
    "purchases": TraitSpec(name="purchases", agg="count", where=BOUGHT),
    "orders": TraitSpec(name="orders", agg="distinct_count", of="order_id", where=BOUGHT),
    "spend": TraitSpec(name="spend", agg="sum", of="amount", where=BOUGHT),
    "spend_30d": TraitSpec(name="spend_30d", agg="sum", of="amount", where=BOUGHT, window="30d"),
    "spend_7d": TraitSpec(name="spend_7d", agg="sum", of="amount", where=BOUGHT, window="7d"),
    "avg_line": TraitSpec(name="avg_line", agg="avg", of="amount", where=BOUGHT),
    "smallest": TraitSpec(name="smallest", agg="min", of="amount", where=BOUGHT),
    "largest": TraitSpec(name="largest", agg="max", of="amount"),
    "first_category": TraitSpec(name="first_category", agg="first", of="category", where="type = 'purchase'"),
    "last_category": TraitSpec(name="last_category", agg="last", of="category"),
    "first_purchase_at": TraitSpec(name="first_purchase_at", agg="min", of="ts", where=BOUGHT),
    "favourite": TraitSpec(name="favourite", agg="mode", of="category", where=BOUGHT),
    "top_channels": TraitSpec(name="top_channels", agg="top_k", of="channel", k=2, where=BOUGHT),
    "refunds": TraitSpec(name="refunds", agg="count", where="status = 'refunded'"),
    "views_10d": TraitSpec(name="views_10d", agg="count", where="type = 'page_view'", window="10d"),
    "city": TraitSpec(name="city", agg="attribute", of="city", sources=["crm"]),
    "city_any": TraitSpec(name="city_any", agg="attribute", of="city"),
    "city_app_first": TraitSpec(
        name="city_app_first", agg="attribute", of="city", sources=["app_profile", "crm"]
    ),
    "level": TraitSpec(name="level", agg="attribute", of="member_level", sources=["crm"]),
}

EXPECTED: dict[str, dict[str, Any]] = {
    "person-1": {
        "events": 11,  # 2 CRM + 1 app profile (30 March) + 5 order lines + 3 web events, before 1 April
        "purchases": 4,
        "orders": 3,
        "spend": 380.5,
        "spend_30d": 30.0,  # only O4 (25 March): the refunded O3 is filtered out
        "spend_7d": 30.0,
        "avg_line": 95.125,
        "smallest": 30.0,
        "largest": 200.0,  # the refunded 80.00 is no larger
        "first_category": None,  # O1's two lines share a time: the smaller event id decides (filled below)
        "last_category": "数码",
        "first_purchase_at": datetime(2024, 1, 10, 12, 0),
        "favourite": "数码",
        "top_channels": ["app", "web"],
        "refunds": 1,
        "views_10d": 0,  # views on 20 and 21 March are more than 10 days before the end of 31 March
        "city": "北京市",  # CRM first, and its most recent row
        "city_any": "杭州市",  # no priority: the most recent of any source
        "city_app_first": "杭州市",
        "level": "金卡",
    },
    "person-2": {
        "events": 3,
        "purchases": 1,
        "orders": 1,
        "spend": 999.0,
        "spend_30d": 999.0,
        "spend_7d": 999.0,
        "avg_line": 999.0,
        "smallest": 999.0,
        "largest": 999.0,
        "first_category": "美妆",
        "last_category": "美妆",
        "first_purchase_at": datetime(2024, 3, 28, 0, 0),
        "favourite": "美妆",
        "top_channels": ["web"],
        "refunds": 0,
        "views_10d": 1,
        "city": "深圳市",
        "city_any": "深圳市",
        "city_app_first": "深圳市",
        "level": "银卡",
    },
    "person-3": {
        "events": 1,
        "purchases": 0,
        "orders": 0,
        "spend": None,
        "spend_30d": None,
        "spend_7d": None,
        "avg_line": None,
        "smallest": None,
        "largest": None,
        "first_category": None,
        "last_category": "图书",
        "first_purchase_at": None,
        "favourite": None,
        "top_channels": None,
        "refunds": 0,
        "views_10d": 1,
        "city": None,
        "city_any": None,
        "city_app_first": None,
        "level": None,
    },
}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("shop")
    opened: list[Workspace] = []

    def make(sources_yaml: str, files: dict[str, bytes | str] | None = None, name: str = "ws") -> Workspace:
        for relative, content in (files or {}).items():
            target = root / name / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8") if isinstance(content, str) else target.write_bytes(
                content
            )
        workspace = Workspace.init(root / name, sources_yaml=sources_yaml)
        opened.append(workspace)
        return workspace

    workspace = shop_workspace(make)
    yield workspace
    for item in opened:
        item.close()


def resolved(workspace: Workspace, names: list[str] | None = None) -> list[Trait]:
    fields = event_fields(workspace.config)
    chosen = names or list(SPECS)
    return [resolve_trait(SPECS[n], fields, timezone=ZONE, where=f"traits.{n}") for n in chosen]


def batch(workspace: Workspace, traits: list[Trait], as_of: datetime = AS_OF) -> dict[str, dict[str, Any]]:
    backend = ibis.duckdb.from_connection(workspace.warehouse.con)
    fields = event_fields(workspace.config)
    events = typed_events(
        backend.table("events"),
        backend.table("event_persons"),
        fields,
        set().union(*(t.reads for t in traits)),
    )
    rows = backend.to_pyarrow(compile_traits(traits, events, EvaluationContext(as_of, ZONE))).to_pylist()
    return {row.pop("person_id"): row for row in rows}


def person_events(workspace: Workspace) -> dict[str, list[EventRecord]]:
    """The same events as the incremental evaluators see them: typed fields from the stored JSON."""
    fields = event_fields(workspace.config)
    backend = ibis.duckdb.from_connection(workspace.warehouse.con)
    names = sorted(set(fields) - {"type", "source", "ts"})
    table = typed_events(backend.table("events"), backend.table("event_persons"), fields, names)
    found: dict[str, list[EventRecord]] = {}
    for row in backend.to_pyarrow(table).to_pylist():
        values = {n: row[n] for n in names if row[n] is not None}
        record = EventRecord(row["event_id"], row["ts"], row["type"], row["source"], values)
        found.setdefault(row["person_id"], []).append(record)
    return found


def expected(workspace: Workspace) -> dict[str, dict[str, Any]]:
    """EXPECTED, with the tie between O1's two lines settled by the rule: the smaller event id is first."""
    [(category,)] = workspace.warehouse.rows(
        "SELECT properties->>'category' FROM events WHERE properties->>'order_id' = 'O1' ORDER BY event_id LIMIT 1"
    )
    values = {person: dict(traits) for person, traits in EXPECTED.items()}
    values["person-1"]["first_category"] = category
    return values


def test_batch_values_are_the_hand_computed_ones(shop: Workspace) -> None:
    assert batch(shop, resolved(shop)) == expected(shop)


def test_incremental_values_are_the_hand_computed_ones(shop: Workspace) -> None:
    context = EvaluationContext(AS_OF, ZONE)
    for person, events in person_events(shop).items():
        assert evaluate_traits(resolved(shop), reversed(events), AS_OF, context) == expected(shop)[person]


def test_no_event_after_the_as_of_time_leaks_in(shop: Workspace) -> None:
    before = batch(
        shop, resolved(shop, ["spend", "orders", "city", "events"]), as_of=datetime(2024, 2, 29, 16)
    )
    assert set(before) == {"person-1", "person-2"}  # person-3's only event is on 29 March
    assert before["person-1"] == {"spend": 350.5, "orders": 2, "city": "上海市", "events": 4}
    assert before["person-2"] == {"spend": None, "orders": 0, "city": "深圳市", "events": 1}
    after = batch(shop, resolved(shop, ["spend"]), as_of=datetime(2024, 4, 30))
    assert after["person-1"]["spend"] == 880.5  # O6 on 2 April counts once the as-of time passes it


def test_an_event_exactly_at_the_as_of_time_is_not_yet_known(shop: Workspace) -> None:
    paid = datetime(2024, 3, 28, 0, 0)  # O5, C2's first purchase, in UTC
    assert batch(shop, resolved(shop, ["purchases"]), as_of=paid)["person-2"]["purchases"] == 0
    assert (
        batch(shop, resolved(shop, ["purchases"]), as_of=paid.replace(second=1))["person-2"]["purchases"] == 1
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (TraitSpec(name="t", agg="sum", of="amout"), "did you mean amount"),
        (TraitSpec(name="t", agg="sum", of="category"), "needs a number"),
        (TraitSpec(name="t", agg="count", where="days_since(ts) < 30"), "window"),
        (TraitSpec(name="t", agg="count", where="amount"), "expected a condition"),
        (TraitSpec(name="t", agg="attribute", of="amount"), "not an attribute"),
    ],
)
def test_broken_definitions_say_where_and_how_to_fix(shop: Workspace, spec: TraitSpec, message: str) -> None:
    with pytest.raises((ConfigError, ExpressionError)) as raised:
        resolve_trait(
            spec, event_fields(shop.config), timezone=ZONE, where="huaxiang.yaml traits.definitions[0]"
        )
    assert message in str(raised.value)
    assert "huaxiang.yaml traits.definitions[0]" in str(raised.value)


def test_fields_come_from_the_source_mappings_with_their_types(shop: Workspace) -> None:
    fields = event_fields(shop.config)
    assert fields["amount"].type == "number" and fields["amount"].location == "property"
    assert fields["city"].location == "attribute"  # derived from the address
    assert fields["birth_date"].type == "date"
    assert fields["ts"].type == "timestamp"


def test_sensitive_fields_cannot_be_aggregated(make_workspace: MakeWorkspace) -> None:
    workspace = make_workspace(
        "sources:\n  - name: s\n    format: csv\n    path: d.csv\n    event_type: purchase\n    fields:\n"
        "      - {column: id, role: identifier, name: user_id}\n"
        "      - {column: income, name: income, kind: number, level: sensitive}\n",
        {"d.csv": "id,income\nu1,100\n"},
    )
    assert "income" not in event_fields(workspace.config)
