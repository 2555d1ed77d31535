"""``address``: a Chinese address, completed and split into province, city and district by jionlp.

``jionlp.parse_location`` fills in what an address leaves implicit (杭州西湖区 → 浙江省杭州市西湖区) and
maps renamed districts to their current names, which is what makes two spellings of one address equal.
It costs about 4 ms a value: it tests every administrative unit of China against the text. Addresses are
nearly all distinct (a house number each), so even normalising distinct values would take over an hour
for a million customers.

What jionlp reads is the administrative prefix ("广东省深圳市南山区"); the rest is passed through as the
detail. So once jionlp has resolved a prefix down to the district, that answer is kept, and a later
address that starts with the same prefix gets it without another scan: the demo's CRM export of 3,611
rows has about a hundred prefixes. Only prefixes resolved to all three levels and ending in the
district's full name are kept: after a district nothing in the detail can add a level, and a short name
("南山") may be a road in another address ("南山路"). The tests and ``benchmarks/kinds_bench.py`` check
that the shortcut gives jionlp's own answer. jionlp is imported on first use: importing it takes about a
second and prints a banner, which is silenced.
"""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass
from typing import Any

from huaxiang.ingest.kinds._jionlp import JIONLP_LOCK, jionlp_module
from huaxiang.ingest.kinds.base import Kind, Normalised, ValueContext

#: Resolved prefixes kept per process; China has about 3,000 districts, written a few ways each.
MAX_PREFIXES = 100_000


@dataclass(frozen=True, slots=True)
class _Resolved:
    """What jionlp made of an administrative prefix: the completed prefix and its three levels."""

    completed: str  # e.g. 浙江省杭州市西湖区 for 杭州西湖区
    province: str
    city: str
    district: str


class _Prefixes:
    """Administrative prefixes as written → jionlp's resolution, looked up by the text's leading characters."""

    def __init__(self) -> None:
        self._resolved: dict[str, _Resolved] = {}
        self._lengths: list[int] = []  # longest first: the most specific prefix wins
        self._lock = threading.Lock()

    def find(self, text: str) -> tuple[str, _Resolved] | None:
        for length in self._lengths:
            if length <= len(text) and (found := self._resolved.get(text[:length])) is not None:
                return text[:length], found
        return None

    def remember(self, text: str, parsed: dict[str, Any]) -> None:
        detail, completed = str(parsed.get("detail") or ""), str(parsed.get("full_location") or "")
        province, city, district = parsed.get("province"), parsed.get("city"), parsed.get("county")
        if not (province and city and district and text.endswith(detail) and completed.endswith(detail)):
            return
        prefix = text[: len(text) - len(detail)]
        if not prefix.endswith(district):
            # The district by a short name ("南山"): jionlp ignores a short name followed by 路 or 街
            # ("南山路"), so the same characters may not mean the district in another address.
            return
        with self._lock:
            if not prefix or prefix in self._resolved or len(self._resolved) >= MAX_PREFIXES:
                return
            resolved = _Resolved(completed[: len(completed) - len(detail)], province, city, district)
            self._resolved[prefix] = resolved
            if len(prefix) not in self._lengths:
                self._lengths = sorted([*self._lengths, len(prefix)], reverse=True)


class AddressKind(Kind):
    """A Chinese address: the completed full address; derives province, city and district."""

    name = "address"
    sql_type = "VARCHAR"
    derived_fields = ("province", "city", "district")

    def __init__(self) -> None:
        self._prefixes = _Prefixes()

    def normalise(self, raw: str, ctx: ValueContext) -> Normalised:
        text = " ".join(unicodedata.normalize("NFKC", raw).split())
        if not text:
            return self.blank()
        known = self._prefixes.find(text)
        if known is not None:
            prefix, resolved = known
            return self.accept(
                resolved.completed + text[len(prefix) :], resolved.province, resolved.city, resolved.district
            )
        return self._parse(text)

    def _parse(self, text: str) -> Normalised:
        with JIONLP_LOCK:
            parsed: dict[str, Any] = jionlp_module().parse_location(text, town_village=False, change2new=True)
        if not parsed.get("province") and not parsed.get("city"):
            return self.reject("expected a Chinese address with a province or city")
        self._prefixes.remember(text, parsed)
        return self.accept(
            str(parsed["full_location"]), parsed.get("province"), parsed.get("city"), parsed.get("county")
        )
