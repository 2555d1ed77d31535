"""``amount``: a sum of money in yuan as DECIMAL(18,2) text (``1299.00``).

The grammar is written here because no library fits: ``jionlp.parse_money`` refuses ``¥1,299.00`` and
``-5.00`` yet reads ``1.2.3`` as 6 and ``1,2,3`` as 123. Digits therefore follow a strict grammar
(optional ¥/￥/RMB/CNY/人民币 and 元, thousands separators only in groups of three, an optional 万 or 亿
multiplier); only amounts written wholly in Chinese numerals (壹仟贰佰元整) go to jionlp. More than two
decimals are rounded half away from zero, as DuckDB's cast to DECIMAL does.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

from huaxiang.ingest.kinds._jionlp import JIONLP_LOCK, jionlp_module
from huaxiang.ingest.kinds.base import Kind, Normalised, ValueContext

_NUMBER = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?"
_AMOUNT = re.compile(
    rf"(?P<sign1>[-+−]?)(?:¥|RMB|CNY|人民币)?(?P<sign2>[-+−]?)(?P<number>{_NUMBER})"
    r"(?P<unit>万|亿)?(?:元整?|圆整?|RMB|CNY)?",
    re.IGNORECASE,
)
_NUMERALS = "零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟萬億"
_CHINESE_AMOUNT = re.compile(f"(?:人民币)?[{_NUMERALS}]+(?:[元圆角分][{_NUMERALS}]*)*整?")
_UNITS = {None: Decimal(1), "万": Decimal(10_000), "亿": Decimal(100_000_000)}
_CENT = Decimal("0.01")
_LIMIT = Decimal(10) ** 16  # DECIMAL(18,2) holds 16 digits before the point
_EXPECTED = "expected an amount like ¥1,299.00, 1299.5元 or RMB 12.30"

# The SQL fast path: at most two decimals (so no rounding), one optional ¥/￥, an optional 元.
_SQL_SHAPE = "[¥￥]? ?-?(?:[0-9]{1,3}(?:,[0-9]{3}){1,4}|[0-9]{1,16})(?:\\.[0-9]{1,2})? ?元?"


class AmountKind(Kind):
    """An amount of money in yuan, two decimals."""

    name = "amount"
    sql_type = "DECIMAL(18,2)"

    def sql_fast_path(self, column_sql: str, ctx: ValueContext) -> str | None:
        digits = f"replace(regexp_replace({column_sql}, '[¥￥元 ]', '', 'g'), ',', '')"
        return (
            f"CASE WHEN regexp_full_match({column_sql}, '{_SQL_SHAPE}') "
            f"THEN TRY_CAST({digits} AS DECIMAL(18,2)) END"
        )

    def normalise(self, raw: str, ctx: ValueContext) -> Normalised:
        text = "".join(unicodedata.normalize("NFKC", raw).split())
        if not text:
            return self.blank()
        match = _AMOUNT.fullmatch(text)
        if match is not None:
            if match["sign1"] and match["sign2"]:
                return self.reject(f"{_EXPECTED}, got two signs")
            negative = "-" in match["sign1"] + match["sign2"] or "−" in match["sign1"] + match["sign2"]
            amount = Decimal(match["number"].replace(",", "")) * _UNITS[match["unit"]]
            return self._accept_amount(-amount if negative else amount)
        if _CHINESE_AMOUNT.fullmatch(text):
            with JIONLP_LOCK:
                try:
                    parsed = jionlp_module().parse_money(text.removeprefix("人民币").removesuffix("整"))
                except ValueError:
                    parsed = None
            if parsed and parsed.get("case") == "元" and parsed.get("definition") == "accurate":
                return self._accept_amount(Decimal(parsed["num"]))
        return self.reject(_EXPECTED)

    def _accept_amount(self, amount: Decimal) -> Normalised:
        rounded = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
        if abs(rounded) >= _LIMIT:
            return self.reject("expected an amount below 10^16 yuan")
        return self.accept(f"{rounded:f}" if rounded else "0.00")
