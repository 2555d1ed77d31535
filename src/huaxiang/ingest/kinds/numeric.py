"""``integer`` (BIGINT) and ``number`` (DOUBLE) from the digits spreadsheets and exports write.

Both accept full-width digits (NFKC) and thousands separators in groups of three; ``integer`` also takes
``12.0``/``12.00`` (what a spreadsheet export makes of a whole number) but refuses ``12.5`` instead of
rounding it. The grammar is a regular expression because Python's ``int()``/``float()`` accept more than a
source value should (``1_000``, ``nan``, ``inf``, Arabic-Indic digits).
"""

from __future__ import annotations

import math
import re
import unicodedata

from huaxiang.ingest.kinds.base import Kind, Normalised, ValueContext

_GROUPED = r"[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+"
_INTEGER = re.compile(rf"(?P<sign>[-+]?)(?P<digits>{_GROUPED})(?:\.0+)?")
_NUMBER = re.compile(rf"[-+]?(?:(?:{_GROUPED})(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]{{1,3}})?")
_BIGINT_MIN, _BIGINT_MAX = -(2**63), 2**63 - 1


class IntegerKind(Kind):
    """A whole number that fits BIGINT."""

    name = "integer"
    sql_type = "BIGINT"

    def sql_fast_path(self, column_sql: str, ctx: ValueContext) -> str | None:
        return (
            f"CASE WHEN regexp_full_match({column_sql}, '[-+]?[0-9]{{1,18}}') "
            f"THEN TRY_CAST({column_sql} AS BIGINT) END"
        )

    def normalise(self, raw: str, ctx: ValueContext) -> Normalised:
        text = "".join(unicodedata.normalize("NFKC", raw).split())
        if not text:
            return self.blank()
        match = _INTEGER.fullmatch(text)
        if match is None:
            return self.reject("expected a whole number like 1299 or 1,299")
        value = int(match["sign"] + match["digits"].replace(",", ""))
        if not _BIGINT_MIN <= value <= _BIGINT_MAX:
            return self.reject("expected a whole number within the 64-bit range")
        return self.accept(str(value))


class NumberKind(Kind):
    """A finite real number (DOUBLE), as Python's shortest round-trip text (which DuckDB prints too)."""

    name = "number"
    sql_type = "DOUBLE"

    def sql_fast_path(self, column_sql: str, ctx: ValueContext) -> str | None:
        return (
            f"CASE WHEN regexp_full_match({column_sql}, '-?[0-9]{{1,15}}(?:\\.[0-9]{{1,15}})?') "
            f"THEN TRY_CAST({column_sql} AS DOUBLE) END"
        )

    def normalise(self, raw: str, ctx: ValueContext) -> Normalised:
        text = "".join(unicodedata.normalize("NFKC", raw).split())
        if not text:
            return self.blank()
        if _NUMBER.fullmatch(text) is None:
            return self.reject("expected a number like 12.5, -3 or 1.2e3")
        value = float(text.replace(",", ""))
        if not math.isfinite(value):
            return self.reject("expected a number within the range of a DOUBLE")
        return self.accept(repr(value))
