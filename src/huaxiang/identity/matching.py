"""The probabilistic step of a resolve: ``identify`` records' attributes matched with Splink.

Why records, not persons: Splink trains without labels on the records as sources sent them, and a pair of
records whose identifiers already put them in one person costs nothing. The pairs found become the weakest
links of the identity graph, so the per-person rules and every cannot-link still apply to them. Identifier
values are not matched fuzzily: they are stored as tokens, and matching never needs their plaintext.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field
from typing import Final, Literal, get_args

import duckdb
import pyarrow as pa

from huaxiang.config import MatchSemanticType, MatchSpec
from huaxiang.errors import HuaxiangError
from huaxiang.i18n import Label
from huaxiang.identity.match_model import ModelDecision, StoredModel, decide_model, new_model
from huaxiang.identity.probabilistic import match_records, plan_matching
from huaxiang.identity.scoring import score_records
from huaxiang.identity.semantic_types import NAME_TYPES, MatchField, MatchSettings
from huaxiang.privacy.crypto import FieldCipher

log = logging.getLogger(__name__)

RECORDS: Final = "hx_match_records"
NEW_RECORDS: Final = "hx_match_new_records"
PAIRS: Final = "hx_new_matches"
MIN_RECORDS: Final = 50  # fewer identify records than this cannot train a model without labels
_AUTO_PRESENCE: Final = 0.1  # an attribute filled in fewer records than this is not matched on


@dataclass(frozen=True, slots=True)
class MatchOutcome:
    """What the probabilistic step did; ``pairs`` are the record pairs kept in ``hx_new_matches``.

    ``model``: ``trained`` (``trained_model`` is to be kept with the run) or ``reused`` (scored with the model
    trained on ``model_records`` records), None when matching did not run.
    """

    records: int = 0
    pairs: int = 0
    fields: tuple[MatchField, ...] = ()
    warnings: tuple[Label, ...] = field(default=())
    skipped: Label | None = None
    model: Literal["trained", "reused"] | None = None
    model_records: int = 0
    retrain_reason: Label | None = None
    trained_model: StoredModel | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, object]:
        return {
            "records": self.records,
            "pairs": self.pairs,
            "fields": {f.column: f.semantic_type for f in self.fields},
            "warnings": [w.en for w in self.warnings],
            "skipped": self.skipped.en if self.skipped else None,
            "model": self.model,
            "model_records": self.model_records,
            "retrain_reason": self.retrain_reason.en if self.retrain_reason else None,
        }


def _empty_pairs(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {PAIRS} (event_id_l VARCHAR, event_id_r VARCHAR, "
        "match_probability DOUBLE, match_weight DOUBLE)"
    )


def plan_model(
    con: duckdb.DuckDBPyConnection, spec: MatchSpec, *, retrain: bool, growth: float
) -> ModelDecision | None:
    """Decide whether this run trains the matching model or reuses the stored one; None: matching won't run.

    Cheap (a count and the stored model's row), so a resolve can decide before anything else whether a
    retraining makes the run full: a new model scores every pair again, not only the new records' pairs.
    """
    if not spec.enabled or spec.fields == {}:
        return None
    fields = _fields(con, spec)
    placeholders = ", ".join("?" for _ in spec.event_types)
    records = int(
        con.execute(
            f"SELECT count(*) FROM events WHERE type IN ({placeholders})", spec.event_types
        ).fetchall()[0][0]
    )
    if not fields or records < MIN_RECORDS:
        return None
    return decide_model(con, fields, spec, records, retrain=retrain, growth=growth)


def match_identify_records(
    con: duckdb.DuckDBPyConnection,
    cipher: FieldCipher,
    spec: MatchSpec,
    *,
    new_only: bool,
    decision: ModelDecision | None = None,
) -> MatchOutcome:
    """Match ``identify`` records; keep in ``hx_new_matches`` the pairs above the threshold.

    ``decision`` (from :func:`plan_model`): train a model, or score with the stored one; None trains.
    ``new_only``: keep only pairs with at least one record no earlier run assigned (an incremental run), and
    skip the step entirely when there is no such record; with a stored model only those pairs are scored.
    Needs ``hx_rules`` and ``hx_blocked`` (pairs of records anchored to the same identifier are dropped:
    they are one person already).
    """
    _empty_pairs(con)
    if not spec.enabled or spec.fields == {}:
        return MatchOutcome(skipped=Label(zh="已关闭", en="turned off in identity.match"))
    types = spec.event_types
    placeholders = ", ".join("?" for _ in types)
    if new_only:
        fresh = con.execute(
            f"SELECT count(*) FROM events e ANTI JOIN event_persons p ON p.event_id = e.event_id "
            f"WHERE e.type IN ({placeholders})",
            types,
        ).fetchall()[0][0]
        if not fresh:
            return MatchOutcome(skipped=Label(zh="没有新的身份记录", en="no new identify records"))
    fields = decision.fields if decision else _fields(con, spec)
    if not fields:
        return MatchOutcome(
            skipped=Label(
                zh="没有可用于匹配的属性（需要姓名及至少一个其他字段）",
                en="no attributes to match on (a name and at least one more field are needed)",
            )
        )
    records = stage_records(con, cipher, fields, types)
    if records < MIN_RECORDS:
        con.execute(f"DROP TABLE IF EXISTS {RECORDS}")
        return MatchOutcome(
            records=records,
            fields=fields,
            skipped=Label(
                zh=f"身份记录只有 {records} 条，少于 {MIN_RECORDS} 条，无法无监督训练",
                en=f"only {records} identify records; at least {MIN_RECORDS} are needed to train without labels",
            ),
        )
    settings = MatchSettings(
        fields=fields, threshold=spec.threshold, max_pairs=spec.max_pairs, seed=spec.seed
    )
    stored = decision.stored if decision else None
    plan = plan_matching(fields, link_type="dedupe_only")
    warnings: tuple[Label, ...] = ()
    trained: StoredModel | None = None
    try:
        if stored is None:
            result = match_records(con, [RECORDS], plan, settings)
            pairs = result.pairs.select(["record_id_l", "record_id_r", "match_probability", "match_weight"])
            warnings = result.warnings
            if decision is not None:
                trained = new_model(decision, result.model)
        else:
            new_ids = None
            if new_only:
                con.execute(
                    f"CREATE OR REPLACE TEMP TABLE {NEW_RECORDS} AS SELECT r.record_id FROM {RECORDS} r "
                    "ANTI JOIN event_persons p ON p.event_id = r.record_id"
                )
                new_ids = NEW_RECORDS
            pairs = score_records(con, RECORDS, plan, stored.settings, spec.threshold, new_ids=new_ids)
    except HuaxiangError as error:
        log.warning("probabilistic matching skipped: %s", error)
        return MatchOutcome(
            records=records,
            fields=fields,
            skipped=Label(zh=f"匹配失败：{error}", en=f"matching failed: {error}"),
        )
    finally:
        con.execute(f"DROP TABLE IF EXISTS {RECORDS}")
        con.execute(f"DROP TABLE IF EXISTS {NEW_RECORDS}")
    con.register("hx_pairs_arrow", pairs)
    try:
        fresh_filter = (
            "AND (p.record_id_l NOT IN (SELECT event_id FROM event_persons) "
            "OR p.record_id_r NOT IN (SELECT event_id FROM event_persons))"
            if new_only
            else ""
        )
        con.execute(
            f"""
            INSERT INTO {PAIRS}
            WITH pairs AS (
                SELECT p.record_id_l AS l, p.record_id_r AS r, p.match_probability, p.match_weight
                FROM hx_pairs_arrow p WHERE p.match_probability >= {float(spec.threshold)!r} {fresh_filter}
            ), anchors AS (
                SELECT i.event_id, arg_max(i.token, (r.priority, i.token)) AS anchor
                FROM event_identifiers i JOIN hx_rules r ON r.id_type = i.id_type
                ANTI JOIN hx_blocked b ON b.token = i.token
                WHERE NOT r.shared AND i.event_id IN (SELECT l FROM pairs UNION SELECT r FROM pairs)
                GROUP BY i.event_id
            )
            SELECT least(p.l, p.r), greatest(p.l, p.r), p.match_probability, p.match_weight FROM pairs p
            LEFT JOIN anchors al ON al.event_id = p.l LEFT JOIN anchors ar ON ar.event_id = p.r
            WHERE al.anchor IS DISTINCT FROM ar.anchor OR al.anchor IS NULL
            """
        )
    finally:
        con.unregister("hx_pairs_arrow")
    kept = int(con.sql(f"SELECT count(*) FROM {PAIRS}").fetchall()[0][0])
    return MatchOutcome(
        records=records,
        pairs=kept,
        fields=fields,
        warnings=warnings,
        model="trained" if stored is None else "reused",
        model_records=stored.records if stored else (decision.records if decision else records),
        retrain_reason=decision.reason if decision else None,
        trained_model=trained,
    )


def _fields(con: duckdb.DuckDBPyConnection, spec: MatchSpec) -> tuple[MatchField, ...]:
    """The declared fields, or (none declared) attributes named like a semantic type that are mostly filled."""
    if spec.fields is not None:
        return tuple(MatchField(name, semantic) for name, semantic in spec.fields.items())
    names: tuple[str, ...] = get_args(MatchSemanticType)
    placeholders = ", ".join("?" for _ in spec.event_types)
    filled = ", ".join(f"count({_value(name)})" for name in names)
    row = con.execute(
        f"SELECT count(*), {filled} FROM events WHERE type IN ({placeholders})", spec.event_types
    ).fetchall()[0]
    total = max(int(row[0]), 1)
    found = [
        MatchField(name, name)  # type: ignore[arg-type]  # the attribute is named after its semantic type
        for name, count in zip(names, row[1:], strict=True)
        if int(count) / total >= _AUTO_PRESENCE
    ]
    if len(found) < 2 or not any(f.semantic_type in NAME_TYPES for f in found):
        return ()
    return tuple(found)


def _value(name: str) -> str:
    """An attribute's text, falling back to the event property of that name (a ticket's customer name)."""
    path = "'$.\"" + name.replace("'", "''").replace('"', '\\"') + "\"'"
    return f"coalesce(json_extract_string(attributes, {path}), json_extract_string(properties, {path}))"


def stage_records(
    con: duckdb.DuckDBPyConnection, cipher: FieldCipher, fields: tuple[MatchField, ...], types: list[str]
) -> int:
    """``hx_match_records``: one row per record with any declared field; encrypted values are decrypted."""
    columns = ", ".join(f"{_value(f.column)} AS {_quote(f.column)}" for f in fields)
    any_filled = " OR ".join(f"{_quote(f.column)} IS NOT NULL" for f in fields)
    placeholders = ", ".join("?" for _ in types)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {RECORDS} AS SELECT * FROM ("
        f"SELECT event_id AS record_id, {columns} FROM events WHERE type IN ({placeholders})) "
        f"WHERE {any_filled}",
        types,
    )
    for f in fields:
        column = _quote(f.column)
        sealed = con.execute(
            f"SELECT record_id, {column} FROM {RECORDS} WHERE starts_with({column}, 'enc:')"
        ).fetchall()
        if not sealed:
            continue
        opened = pa.table(
            {
                "record_id": [r[0] for r in sealed],
                "value": [cipher.decrypt(base64.b64decode(r[1][4:]), context=f.column) for r in sealed],
            }
        )
        con.register("hx_opened", opened)
        try:
            con.execute(
                f"UPDATE {RECORDS} SET {column} = o.value FROM hx_opened o WHERE o.record_id = {RECORDS}.record_id"
            )
        finally:
            con.unregister("hx_opened")
    return int(con.sql(f"SELECT count(*) FROM {RECORDS}").fetchall()[0][0])


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
