"""``address``: a Chinese address, completed and split into province, city and district by jionlp.

``jionlp.parse_location`` fills in what an address leaves implicit (杭州西湖区 → 浙江省杭州市西湖区) and
maps renamed districts to their current names, which is what makes two spellings of one address equal.
It costs about 3 ms a value (it scans every administrative unit), so ingest sends it distinct values only.
jionlp is imported on first use: importing it takes about a second and prints a banner, which is silenced.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from huaxiang.ingest.kinds._jionlp import JIONLP_LOCK, jionlp_module
from huaxiang.ingest.kinds.base import Kind, Normalised, ValueContext


class AddressKind(Kind):
    """A Chinese address: the completed full address; derives province, city and district."""

    name = "address"
    sql_type = "VARCHAR"
    derived_fields = ("province", "city", "district")

    def normalise(self, raw: str, ctx: ValueContext) -> Normalised:
        text = " ".join(unicodedata.normalize("NFKC", raw).split())
        if not text:
            return self.blank()
        with JIONLP_LOCK:
            parsed: dict[str, Any] = jionlp_module().parse_location(text, town_village=False, change2new=True)
        if not parsed.get("province") and not parsed.get("city"):
            return self.reject("expected a Chinese address with a province or city")
        return self.accept(
            str(parsed["full_location"]), parsed.get("province"), parsed.get("city"), parsed.get("county")
        )
