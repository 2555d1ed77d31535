"""Value kinds: how one field's raw text becomes a canonical value, or the reason it cannot.

Ingest normalises distinct values, not rows: each kind's ``sql_fast_path`` settles the regular shapes
inside DuckDB and ``normalise`` settles, in Python, only what the fast path left NULL. Errors describe a
value's shape and never repeat it, because quarantine reasons are shown to people who may not be allowed
to see the field.
"""

from __future__ import annotations

import difflib

from huaxiang.errors import ConfigError
from huaxiang.ingest.kinds.address import AddressKind
from huaxiang.ingest.kinds.amount import AmountKind
from huaxiang.ingest.kinds.base import Kind, Normalised, ValueContext
from huaxiang.ingest.kinds.boolean import BooleanKind
from huaxiang.ingest.kinds.calendar_date import DateKind
from huaxiang.ingest.kinds.email_address import EmailKind
from huaxiang.ingest.kinds.gender import GenderKind
from huaxiang.ingest.kinds.id_card import IdCardKind
from huaxiang.ingest.kinds.numeric import IntegerKind, NumberKind
from huaxiang.ingest.kinds.person_name import NameKind
from huaxiang.ingest.kinds.phone import PhoneKind
from huaxiang.ingest.kinds.plain_text import StringKind, TextKind
from huaxiang.ingest.kinds.timestamp import TimestampKind

__all__ = ["KIND_NAMES", "Kind", "Normalised", "ValueContext", "kind_named"]

_KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        StringKind(),
        NameKind(),
        TextKind(),
        PhoneKind(),
        EmailKind(),
        IdCardKind(),
        GenderKind(),
        AddressKind(),
        AmountKind(),
        IntegerKind(),
        NumberKind(),
        BooleanKind(),
        DateKind(),
        TimestampKind(),
    )
}
KIND_NAMES: tuple[str, ...] = tuple(_KINDS)


def kind_named(name: str) -> Kind:
    """The kind called ``name``; an unknown name lists the known ones, the closest first."""
    try:
        return _KINDS[name]
    except KeyError:
        closest = difflib.get_close_matches(name, KIND_NAMES, n=len(KIND_NAMES), cutoff=0.0)
        raise ConfigError(f"unknown value kind {name!r}", hint=f"use one of: {', '.join(closest)}") from None
