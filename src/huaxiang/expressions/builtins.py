"""Engine functions Ibis does not model, declared once by their DuckDB names.

Ibis has no operation for "this UTC timestamp on the wall clock of zone Z", for a plain extraction of one
JSON member, or for a per-value count in one aggregation pass, so the engine's own functions are declared
as Ibis builtins here, in one place. When a second engine arrives this list is the seam: Spark's
counterparts are ``from_utc_timestamp(ts, zone)``, ``get_json_object(doc, path)`` and a
``map_from_entries`` over grouped counts.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.datatypes as dt


@ibis.udf.scalar.builtin(name="timezone")  # type: ignore[untyped-decorator]
def local_time(zone: str, moment: dt.Timestamp(timezone="UTC")) -> dt.timestamp:  # type: ignore[valid-type]
    """The wall-clock time in ``zone`` of a UTC instant (DuckDB ``timezone(zone, timestamptz)``)."""
    ...


@ibis.udf.scalar.builtin(name="json_extract_string")  # type: ignore[untyped-decorator]
def json_text(document: dt.JSON, path: str) -> dt.string:
    """One member of a JSON document as text (DuckDB's ``->>``), read once and cast by the caller.

    Ibis's own ``.str``/``.float`` accessors test the JSON type first and extract twice; this is the
    plain extraction, and ``TRY_CAST`` of its text gives a typed column with invalid values as NULL.
    """
    ...


def histogram(value_type: dt.DataType) -> Any:
    """``histogram(x)``: an aggregate giving each distinct value's count as a map (one pass, no sort).

    Declared per value type, as Ibis builtins carry a fixed signature.
    """
    return _HISTOGRAMS.setdefault(
        value_type,
        ibis.udf.agg.builtin(
            _histogram, name="histogram", signature=((value_type,), dt.Map(value_type, dt.int64))
        ),
    )


def map_entries(value_type: dt.DataType) -> Any:
    """``map_entries(m)``: a histogram's (value, count) pairs as a list of structs."""
    entry = dt.Struct({"key": value_type, "value": dt.int64})
    return _ENTRIES.setdefault(
        value_type,
        ibis.udf.scalar.builtin(
            _map_entries, name="map_entries", signature=((dt.Map(value_type, dt.int64),), dt.Array(entry))
        ),
    )


def _histogram(value: Any) -> Any: ...


def _map_entries(mapping: Any) -> Any: ...


_HISTOGRAMS: dict[dt.DataType, Any] = {}
_ENTRIES: dict[dt.DataType, Any] = {}
