"""``phone``: a telephone number in E.164 form (``+8613812345678``), parsed and validated by phonenumbers.

Two guards sit in front of the library, each because phonenumbers is more lenient than an identifier
may be: letters are refused (it reads ``1-800-FLOWERS`` as digits, so ``138-1234-5678 abc`` would become a
different number), and extensions are refused (E.164 has none, so two extensions of one switchboard would
become the same identifier).
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

from huaxiang.ingest.kinds.base import Kind, Normalised, ValueContext

_EXTENSION = re.compile(r"ext|转|分机|#|[xX]\s*\d", re.IGNORECASE)
_PHONE_CHARS = re.compile(r"[0-9+()\-./\s]+")


def cn_mobile_pattern() -> str:
    """The CN mobile number pattern from phonenumbers' own metadata, so the SQL fast path follows the library.

    It is narrower than ``1[3-9][0-9]{9}`` (no 140-144, 154, 179, 194, …), and every number it matches is
    valid with no national prefix to strip, so the SQL result is exactly the library's.
    """
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    mobile = metadata.mobile if metadata is not None else None
    pattern = mobile.national_number_pattern if mobile is not None else None
    if pattern is None:
        raise RuntimeError("phonenumbers has no CN mobile pattern")
    return pattern


class PhoneKind(Kind):
    """A phone number in E.164; national numbers are read in the context's region."""

    name = "phone"
    sql_type = "VARCHAR"

    def sql_fast_path(self, column_sql: str, ctx: ValueContext) -> str | None:
        if ctx.region != "CN":
            return None
        # A mobile number alone or after the country code (`+86 `, `+86-`, `+86`): its last eleven characters.
        national = f"right({column_sql}, 11)"
        return (
            f"CASE WHEN regexp_full_match({column_sql}, '(?:\\+86[ -]?)?1[3-9][0-9]{{9}}') "
            f"AND regexp_full_match({national}, '(?:{cn_mobile_pattern()})') THEN '+86' || {national} END"
        )

    def normalise(self, raw: str, ctx: ValueContext) -> Normalised:
        text = unicodedata.normalize("NFKC", raw).strip()
        if not text:
            return self.blank()
        if _EXTENSION.search(text):
            return self.reject("expected a phone number without an extension")
        if not _PHONE_CHARS.fullmatch(text):
            return self.reject("expected a phone number of digits, spaces and + - ( ), got other characters")
        digits = re.sub(r"\D", "", text)
        expected = "expected a mobile or landline number"
        got = f"got {len(digits)} digits" + (f" starting {digits[:2]}" if len(digits) >= 2 else "")
        try:
            number = phonenumbers.parse(text, ctx.region)
        except phonenumbers.NumberParseException:
            return self.reject(f"{expected}, {got}")
        if not phonenumbers.is_valid_number(number):
            return self.reject(f"{expected}, {got}")
        return self.accept(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
