"""``id_card``: a 居民身份证 number checked by python-stdnum (length, check digit, birth date, region).

The number is also the source of two derived fields, ``birth_date`` and ``gender`` (17th digit: odd is
male), so a CRM that stores only the number still yields both. The old 15-digit form (issued until 1999)
is refused: stdnum cannot validate it and converting it by hand would invent a check digit for a number
that never had one.
"""

from __future__ import annotations

import re
import unicodedata

from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, ValidationError

from huaxiang.ingest.kinds.base import Kind, Normalised, ValueContext, shape_of

# stdnum's compact() keeps spaces and hyphens; printed numbers are often grouped as 6-8-4.
_SEPARATORS = re.compile(r"[\s\-]")


class IdCardKind(Kind):
    """A resident identity card number, upper-case ``X``; derives the birth date and gender."""

    name = "id_card"
    sql_type = "VARCHAR"
    derived_fields = ("birth_date", "gender")

    def normalise(self, raw: str, ctx: ValueContext) -> Normalised:
        text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw))
        if not text:
            return self.blank()
        if len(text) == 15 and text.isdigit():
            return self.reject("expected an 18-digit resident ID number, got the old 15-digit form")
        if len(text) != 18 or not text[:17].isdigit() or text[17] not in "0123456789Xx":
            return self.reject(f"expected 17 digits and a check digit 0-9 or X, got {shape_of(text)}")
        try:
            number = ric.validate(text)
        except InvalidChecksum:
            return self.reject("expected a resident ID number with a matching check digit")
        except InvalidComponent:
            return self.reject(_component_error(text))
        except ValidationError as error:  # any other refusal by the library
            return self.reject(f"expected a resident ID number; {error}")
        gender = "M" if int(number[16]) % 2 else "F"
        return self.accept(number, ric.get_birth_date(number).isoformat(), gender)


def _component_error(number: str) -> str:
    try:
        ric.get_birth_date(number)
    except ValidationError:
        return "expected a resident ID number with a real birth date (digits 7-14)"
    return "expected a resident ID number with a known region code (digits 1-6)"
