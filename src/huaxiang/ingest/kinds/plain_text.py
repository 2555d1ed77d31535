"""``string`` (a short label compared for equality) and ``text`` (free text kept as written).

``string`` folds the variants a keyboard or an export produces for the same label: NFKC turns full-width
letters, digits and spaces into their ASCII forms, and every whitespace run becomes one space. ``text``
only loses its surrounding whitespace, because reviews and notes are read, not matched.
"""

from __future__ import annotations

import functools
import sys
import unicodedata

from huaxiang.ingest.kinds.base import Kind, Normalised, ValueContext

# Printable ASCII and the CJK Unified Ideographs block: every such character is its own NFKC form and is
# not whitespace, so a run of them separated by single spaces is already a canonical ``string``.
STABLE_CHARS = "\\x21-\\x7E\\x{4E00}-\\x{9FFF}"
STABLE_WORDS = f"[{STABLE_CHARS}]+(?: [{STABLE_CHARS}]+)*"


@functools.cache
def whitespace_class() -> str:
    """An RE2 character class of exactly the characters Python's ``str.strip()`` removes."""
    spaces = [chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()]
    return "".join(f"\\x{{{ord(char):X}}}" for char in spaces)


def fold_label(raw: str) -> str:
    """NFKC, then every run of whitespace as one space, with none at either end."""
    return " ".join(unicodedata.normalize("NFKC", raw).split())


class StringKind(Kind):
    """A short label: NFKC-folded, whitespace runs collapsed to one space."""

    name = "string"
    sql_type = "VARCHAR"

    def sql_fast_path(self, column_sql: str, ctx: ValueContext) -> str | None:
        return f"CASE WHEN regexp_full_match({column_sql}, '{STABLE_WORDS}') THEN {column_sql} END"

    def normalise(self, raw: str, ctx: ValueContext) -> Normalised:
        value = fold_label(raw)
        return self.accept(value) if value else self.blank()


class TextKind(Kind):
    """Free text: kept exactly as written apart from surrounding whitespace."""

    name = "text"
    sql_type = "VARCHAR"

    def sql_fast_path(self, column_sql: str, ctx: ValueContext) -> str | None:
        edge = f"[^{whitespace_class()}]"
        return f"CASE WHEN regexp_full_match({column_sql}, '(?s){edge}(?:.*{edge})?') THEN {column_sql} END"

    def normalise(self, raw: str, ctx: ValueContext) -> Normalised:
        value = raw.strip()
        return self.accept(value) if value else self.blank()
