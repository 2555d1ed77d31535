"""``gender``: ``M`` or ``F`` from the spellings CN and English systems use.

Numeric codes follow GB/T 2261.1-2003 (人的性别代码): 1 男, 2 女, 0 未知, 9 未说明. So ``0`` means unknown,
not female, although some systems store 0 for 女: such a source must map its codes in its field mapping.
Stated unknowns (0, 9, 未知, 保密, unknown) are missing values, not errors.
"""

from __future__ import annotations

import unicodedata

from huaxiang.ingest.kinds.base import Kind, Normalised, ValueContext, sql_word_lookup

GENDER_WORDS: dict[str, str] = {
    **dict.fromkeys(["m", "male", "man", "1", "男", "男性", "男士", "先生"], "M"),
    **dict.fromkeys(["f", "female", "woman", "2", "女", "女性", "女士", "小姐"], "F"),
}
UNKNOWN_GENDER_WORDS = frozenset(["0", "9", "u", "unknown", "未知", "保密", "未说明", "不详"])


class GenderKind(Kind):
    """``M`` or ``F``; GB/T 2261.1 codes for digits; stated unknowns become missing."""

    name = "gender"
    sql_type = "VARCHAR"

    def sql_fast_path(self, column_sql: str, ctx: ValueContext) -> str | None:
        return sql_word_lookup(column_sql, GENDER_WORDS)

    def normalise(self, raw: str, ctx: ValueContext) -> Normalised:
        word = unicodedata.normalize("NFKC", raw).strip().lower()
        if not word or word in UNKNOWN_GENDER_WORDS:
            return self.blank()
        if word in GENDER_WORDS:
            return self.accept(GENDER_WORDS[word])
        return self.reject("expected 男/女, M/F, male/female or a GB/T 2261.1 code (1 男, 2 女)")
