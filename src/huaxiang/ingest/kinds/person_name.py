"""``name``: a person's name, folded like a label and required to contain letters.

Names are not re-cased or transliterated: 欧阳 and "van der Berg" are kept as written, because matching
(pinyin, nicknames, typos) is the identity stage's job and needs the original spelling.
"""

from __future__ import annotations

from huaxiang.ingest.kinds.base import Kind, Normalised, ValueContext
from huaxiang.ingest.kinds.plain_text import STABLE_WORDS, fold_label


class NameKind(Kind):
    """A person's name: NFKC, whitespace collapsed; a value without any letter is rejected."""

    name = "name"
    sql_type = "VARCHAR"

    def sql_fast_path(self, column_sql: str, ctx: ValueContext) -> str | None:
        return (
            f"CASE WHEN regexp_full_match({column_sql}, '{STABLE_WORDS}') "
            f"AND regexp_matches({column_sql}, '[A-Za-z\\x{{4E00}}-\\x{{9FFF}}]') THEN {column_sql} END"
        )

    def normalise(self, raw: str, ctx: ValueContext) -> Normalised:
        value = fold_label(raw)
        if not value:
            return self.blank()
        if not any(char.isalpha() for char in value):
            what = "digits only" if value.replace(" ", "").isdigit() else "no letters"
            return self.reject(f"expected a person's name with letters, got {what}")
        return self.accept(value)
