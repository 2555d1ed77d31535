"""``boolean``: ``true`` or ``false`` from the yes/no spellings of English and Chinese forms."""

from __future__ import annotations

import unicodedata

from huaxiang.ingest.kinds.base import Kind, Normalised, ValueContext, sql_word_lookup

BOOLEAN_WORDS: dict[str, str] = {
    **dict.fromkeys(["true", "t", "yes", "y", "1", "是", "真", "有", "对"], "true"),
    **dict.fromkeys(["false", "f", "no", "n", "0", "否", "假", "无", "错"], "false"),
}


class BooleanKind(Kind):
    """``true``/``false`` (castable to BOOLEAN)."""

    name = "boolean"
    sql_type = "BOOLEAN"

    def sql_fast_path(self, column_sql: str, ctx: ValueContext) -> str | None:
        return sql_word_lookup(column_sql, BOOLEAN_WORDS)

    def normalise(self, raw: str, ctx: ValueContext) -> Normalised:
        word = unicodedata.normalize("NFKC", raw).strip().lower()
        if not word:
            return self.blank()
        if word in BOOLEAN_WORDS:
            return self.accept(BOOLEAN_WORDS[word])
        return self.reject("expected true/false, yes/no, y/n, 1/0 or 是/否")
