"""``email``: an e-mail address checked for syntax by email-validator and lower-cased.

No DNS look-up (``check_deliverability=False``): ingest must be repeatable and offline. The whole address
is lower-cased, although the local part is case-sensitive in theory, because no mail system in practice
treats ``Zhang@qq.com`` and ``zhang@qq.com`` as different people.
"""

from __future__ import annotations

import unicodedata

import email_validator

from huaxiang.ingest.kinds.base import Kind, Normalised, ValueContext

_LOCAL = "[A-Za-z0-9_+-]+(?:\\.[A-Za-z0-9_+-]+)*"
_DOMAIN = "(?:[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\\.)+[A-Za-z]{2,24}"


class EmailKind(Kind):
    """An e-mail address, lower-cased, with an internationalised domain in its Unicode form."""

    name = "email"
    sql_type = "VARCHAR"

    def sql_fast_path(self, column_sql: str, ctx: ValueContext) -> str | None:
        # Plain ASCII dot-atoms at ordinary domains only: no quoting, no punycode, no "--" (IDNA rules),
        # no special-use names, short enough that no length limit of RFC 5321 can apply.
        special = "|".join(sorted(email_validator.SPECIAL_USE_DOMAIN_NAMES))
        return (
            f"CASE WHEN length({column_sql}) <= 64 "
            f"AND regexp_full_match({column_sql}, '{_LOCAL}@{_DOMAIN}') "
            f"AND NOT regexp_matches(lower({column_sql}), '[.@](?:{special})$') "
            f"THEN lower({column_sql}) END"
        )

    def normalise(self, raw: str, ctx: ValueContext) -> Normalised:
        text = unicodedata.normalize("NFKC", raw).strip()
        if not text:
            return self.blank()
        try:
            checked = email_validator.validate_email(text, check_deliverability=False)
        except email_validator.EmailNotValidError as error:
            return self.reject(f"expected an e-mail address like name@example.com; {error}")
        return self.accept(checked.normalized.lower())
