"""The shared shapes of a value kind: its context, its result and its two normalisers.

A kind normalises one raw text value twice over: ``sql_fast_path`` handles the regular shapes inside
DuckDB, ``normalise`` decides everything else in Python. The fast path may only ever be narrower:
for any value it does not leave NULL it must give exactly what ``normalise`` gives, once both are cast
to the kind's ``sql_type``.
"""

from __future__ import annotations

import zoneinfo
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import phonenumbers

from huaxiang.errors import ConfigError


@dataclass(frozen=True, slots=True)
class ValueContext:
    """What a kind needs to know about a source beyond the value itself.

    Checked when built, so a bad zone or region fails once at configuration time instead of once per value.
    """

    timezone: str = "Asia/Shanghai"  # zone of naive timestamps
    region: str = "CN"  # default phone region
    date_formats: tuple[str, ...] = ()  # extra strptime formats declared in config, tried first

    def __post_init__(self) -> None:
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
            raise ConfigError(
                f"unknown time zone {self.timezone!r}",
                hint="use an IANA zone name such as Asia/Shanghai or Europe/Berlin",
            ) from error
        if self.region not in phonenumbers.SUPPORTED_REGIONS:
            raise ConfigError(
                f"unknown phone region {self.region!r}",
                hint="use a two-letter region code such as CN, HK or US",
            )
        for fmt in self.date_formats:
            if "%" not in fmt:
                raise ConfigError(
                    f"date format {fmt!r} has no strptime directive",
                    hint="write formats like %d/%m/%Y or %Y%m%d %H%M",
                )


@dataclass(frozen=True, slots=True)
class Normalised:
    """One raw value after normalisation: its canonical text, or why it was rejected.

    ``value`` and ``error`` both None: the value was blank or a stated "unknown", so missing, not wrong.
    ``derived`` always has one pair per ``Kind.derived_fields``, with None values when ``value`` is None.
    """

    value: str | None
    error: str | None = None
    derived: tuple[tuple[str, str | None], ...] = ()


class Kind(ABC):
    """A kind of field value: its DuckDB type, its derived outputs and its two normalisers.

    An ABC rather than a Protocol so the common helpers (accept, reject, blank) live in one place.
    """

    name: ClassVar[str]
    sql_type: ClassVar[str]
    derived_fields: ClassVar[tuple[str, ...]] = ()

    def sql_fast_path(self, column_sql: str, ctx: ValueContext) -> str | None:
        """A DuckDB expression giving the normalised value of regular shapes, NULL for the rest.

        The value is either of ``sql_type`` or text that casts to it (the pipeline casts both). Timestamps,
        dates and numbers are returned typed: printing one here for the cast to parse again would cost more
        on every row than normalising it.
        """
        return None

    @abstractmethod
    def normalise(self, raw: str, ctx: ValueContext) -> Normalised:
        """The canonical value of ``raw``, or why it is invalid."""

    def accept(self, value: str, *derived: str | None) -> Normalised:
        return Normalised(value, None, tuple(zip(self.derived_fields, derived, strict=True)))

    def reject(self, error: str) -> Normalised:
        return Normalised(None, error, tuple((name, None) for name in self.derived_fields))

    def blank(self) -> Normalised:
        return Normalised(None, None, tuple((name, None) for name in self.derived_fields))

    def __repr__(self) -> str:
        return f"<kind {self.name}>"


def sql_string(text: str) -> str:
    """``text`` as a DuckDB string literal (quotes doubled), for config-provided text placed in SQL."""
    return "'" + text.replace("'", "''") + "'"


def sql_word_lookup(column_sql: str, words: Mapping[str, str]) -> str:
    """A CASE expression mapping known words to canonical values, NULL otherwise.

    ASCII words match case-insensitively only when the column is pure ASCII, so Unicode case folding in
    DuckDB can never accept a spelling the Python side would not.
    """
    cases = {word: f"WHEN {sql_string(word)} THEN {sql_string(value)}" for word, value in words.items()}
    ascii_cases = " ".join(case for word, case in cases.items() if word.isascii())
    other_cases = " ".join(case for word, case in cases.items() if not word.isascii())
    ascii_branch = f"CASE lower({column_sql}) {ascii_cases} END" if ascii_cases else "NULL"
    other_branch = f"CASE {column_sql} {other_cases} END" if other_cases else "NULL"
    return (
        f"CASE WHEN regexp_full_match({column_sql}, '[\\x21-\\x7E]+') THEN {ascii_branch} "
        f"ELSE {other_branch} END"
    )


def shape_of(text: str) -> str:
    """A short description of a value that does not repeat it (errors end up where the value may not)."""
    digits = sum(char.isdigit() for char in text)
    if digits == len(text):
        return f"{digits} digits"
    return f"{len(text)} characters" + (f" ({digits} digits)" if digits else "")
