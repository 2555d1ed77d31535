"""Score records with a model trained by an earlier run: all pairs, or only the pairs that involve new records.

Why: training (u sampling, EM passes, the prior) is most of the probabilistic step, and a day's new records
do not change what agreement on a name or a birth date is worth. A stored model (Splink's settings JSON with
the trained m and u, the prior and the prediction rules it was sized with) scores new records against every
earlier one with Splink's ``predict_within`` (new × new) and ``predict_between`` (earlier × new): the same
blocking rules and the same scores a full prediction gives those pairs, since blocking is a union of
equality rules and a pair's score depends on its two records, the model and the term frequencies. Term
frequencies are counted over every record, new ones included, as a full prediction would count them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import pyarrow as pa

from huaxiang.identity.probabilistic import (
    MatchingError,
    MatchPlan,
    _prepare,
    _q,
    _quiet_splink,
    _stage,
    _table_ref,
    _views,
)
from huaxiang.identity.semantic_types import RECORD_ID


def score_records(
    con: duckdb.DuckDBPyConnection,
    table: str,
    plan: MatchPlan,
    model: Mapping[str, Any],
    threshold: float,
    *,
    new_ids: str | None = None,
) -> pa.Table:
    """Pairs of ``table``'s records (``record_id_l``, ``record_id_r``, ``match_probability``, ``match_weight``)
    at or above ``threshold``, scored with a trained ``model`` (no training happens here).

    ``new_ids``: a table whose ``record_id`` column names the new records; only pairs with at least one of them
    are scored. None: every pair the model's blocking rules make (a full prediction). Only ``dedupe_only``
    plans are supported: that is how a resolve matches its ``identify`` records.
    """
    from splink import DuckDBAPI, Linker
    from splink.internals.exceptions import SplinkException

    if plan.link_type != "dedupe_only":
        raise ValueError("score_records matches the records of one table (dedupe_only)")
    run = uuid.uuid4().hex[:8]
    every, new, old = (f"__hx_score_{run}_{part}" for part in ("all", "new", "old"))
    db_api = DuckDBAPI(connection=con)
    views_before = _views(con)
    try:
        with _stage("prepare"):
            _prepare(con, [table], [every], plan)
        settings = dict(model)
        linker = Linker(db_api.register(every), settings, log_level=None, validate_settings=False)
        with _quiet_splink(), _stage("score with the stored model"):
            for column in _tf_columns(plan):
                linker.table_management.compute_tf_table(column)
            if new_ids is None:
                frames = [linker.inference.predict(threshold_match_probability=threshold)]
            else:
                ids = _table_ref(new_ids)
                con.execute(
                    f"CREATE TABLE {_q(new)} AS SELECT * FROM {_q(every)} "
                    f"WHERE {RECORD_ID} IN (SELECT {RECORD_ID} FROM {ids})"
                ).fetchall()
                con.execute(
                    f"CREATE TABLE {_q(old)} AS SELECT * FROM {_q(every)} "
                    f"WHERE {RECORD_ID} NOT IN (SELECT {RECORD_ID} FROM {ids})"
                ).fetchall()
                fresh, earlier = db_api.register(new), db_api.register(old)
                frames = [
                    linker.inference.predict_within(
                        fresh, threshold_match_probability=threshold, warning_mode="never"
                    ),
                    linker.inference.predict_between(
                        earlier, fresh, threshold_match_probability=threshold, warning_mode="never"
                    ),
                ]
        union = " UNION ALL ".join(
            f"SELECT {RECORD_ID}_l AS record_id_l, {RECORD_ID}_r AS record_id_r, match_probability, match_weight "
            f"FROM {frame.physical_name}"
            for frame in frames
        )
        return con.sql(union).to_arrow_table()
    except (SplinkException, ValueError, KeyError, duckdb.Error) as error:
        # A stored model Splink cannot use (saved by another version, say) is reported, not fatal.
        raise MatchingError(
            f"the stored matching model could not be used: {error}",
            location="identity_models",
            hint="train it again with `huaxiang identity resolve --retrain`",
        ) from error
    finally:
        db_api.delete_tables_created_by_splink_from_db()  # type: ignore[no-untyped-call]
        for leftover in _views(con) - views_before:
            con.unregister(leftover)
        for name in (every, new, old):
            con.execute(f"DROP TABLE IF EXISTS {_q(name)}").fetchall()


def _tf_columns(plan: MatchPlan) -> Sequence[str]:
    """Prepared columns with a term-frequency adjustment: their tables are counted over every record."""
    return sorted({level.column for c in plan.comparisons for level in c.levels if level.term_frequencies})
