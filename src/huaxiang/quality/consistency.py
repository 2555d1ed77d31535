"""Consistency across events: one identifier token carrying different values of an attribute.

The check runs on keyed tokens, never on plaintext identifiers: two events agree on a person when they
share a token (``event_identifiers``), and then their ``attributes`` should agree on stable facts such as
a birth date. Values are compared after trimming, collapsing spaces and lower-casing, so formatting
alone is no conflict. Examples show only a token prefix and masked values. Encrypted attribute values
(``enc:…``, a fresh nonce per batch) are decrypted when a cipher is given and skipped otherwise, since
two ciphertexts of one value differ.
"""

from __future__ import annotations

import base64
import logging
import re
from collections import defaultdict
from collections.abc import Sequence

import pyarrow as pa

from huaxiang.backends.duckdb import Warehouse
from huaxiang.privacy.crypto import FieldCipher
from huaxiang.quality.report import ConflictExample, ConsistencyFinding, ValueCount

log = logging.getLogger(__name__)

#: Identifier types strong enough that two events sharing one should describe the same person.
IDENTIFIER_TYPES = ("id_card", "phone", "email")
#: Attributes that do not change over a person's life (a name rarely does; a change is worth a look).
ATTRIBUTES = ("birth_date", "gender", "full_name")
EXAMPLES_PER_FINDING = 3
TOKEN_PREFIX = 8
_ENCRYPTED = "enc:"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KEEP = set("-/ .@_:")
_OBSERVATIONS = "_quality_observations"
_PER_TOKEN = "_quality_per_token"


def check_consistency(
    warehouse: Warehouse,
    *,
    identifier_types: Sequence[str] = IDENTIFIER_TYPES,
    attributes: Sequence[str] = ATTRIBUTES,
    cipher: FieldCipher | None = None,
    examples: int = EXAMPLES_PER_FINDING,
) -> tuple[ConsistencyFinding, ...]:
    """One finding per (identifier type, attribute) with at least one token seen in two events."""
    for name in (*attributes, *identifier_types):
        if not _NAME.match(name):
            raise ValueError(f"attribute and identifier type names are plain identifiers, got {name!r}")
    if not identifier_types or not attributes:
        return ()
    con = warehouse.con
    # names are written into the SQL as literals: checked above to be plain identifiers, never free text
    names = ", ".join(f"'{name}'" for name in attributes)
    paths = ", ".join(f"'$.{name}'" for name in attributes)
    types = ", ".join(f"'{name}'" for name in identifier_types)
    # one pass over events: every attribute of a row unnested beside its name
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_OBSERVATIONS} AS "
        f"WITH ids AS (SELECT event_id, id_type, token FROM event_identifiers "
        f"  WHERE id_type IN ({types})), "
        f"vals AS (SELECT event_id, source, unnest([{names}]) AS attribute, "
        f"  unnest(json_extract_string(attributes, [{paths}])) AS raw "
        f"  FROM events WHERE attributes IS NOT NULL) "
        f"SELECT i.id_type, i.token, v.attribute, v.source, "
        f"CASE WHEN starts_with(v.raw, '{_ENCRYPTED}') THEN v.raw ELSE {_normalised('v.raw')} END AS value "
        f"FROM vals v JOIN ids i ON i.event_id = v.event_id WHERE v.raw IS NOT NULL AND trim(v.raw) <> ''"
    )
    try:
        _decrypt_or_drop(warehouse, cipher)
        # min <> max says "more than one value" at a fraction of the cost of count(DISTINCT ...)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_PER_TOKEN} AS "
            f"SELECT id_type, token, attribute, count(*) AS events, min(value) <> max(value) AS conflict, "
            f"min(source) <> max(source) AS sources FROM {_OBSERVATIONS} GROUP BY ALL"
        )
        return _findings(warehouse, examples)
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_OBSERVATIONS}")
        con.execute(f"DROP TABLE IF EXISTS {_PER_TOKEN}")


def _normalised(value_sql: str) -> str:
    """Trimmed, lower-cased, inner runs of spaces collapsed (the regular expression only where needed)."""
    text = f"lower(trim({value_sql}))"
    return f"CASE WHEN strpos({text}, '  ') > 0 THEN regexp_replace({text}, ' +', ' ', 'g') ELSE {text} END"


def _decrypt_or_drop(warehouse: Warehouse, cipher: FieldCipher | None) -> None:
    """Replace ``enc:`` values by their plaintext (decrypted once per distinct ciphertext), or drop them."""
    encrypted = warehouse.rows(
        f"SELECT DISTINCT attribute, value FROM {_OBSERVATIONS} WHERE starts_with(value, '{_ENCRYPTED}')"
    )
    if not encrypted:
        return
    if cipher is None:
        log.info("consistency: %d encrypted attribute values skipped (no cipher given)", len(encrypted))
        warehouse.con.execute(f"DELETE FROM {_OBSERVATIONS} WHERE starts_with(value, '{_ENCRYPTED}')")
        return
    plain = [
        cipher.decrypt(base64.b64decode(value.removeprefix(_ENCRYPTED)), context=attribute)
        for attribute, value in encrypted
    ]
    table = pa.table(
        {"sealed": pa.array([v for _, v in encrypted], pa.string()), "plain": pa.array(plain, pa.string())}
    )
    warehouse.con.register("_quality_plain", table)
    try:
        warehouse.con.execute(
            f"UPDATE {_OBSERVATIONS} SET value = {_normalised('p.plain')} "
            f"FROM _quality_plain p WHERE {_OBSERVATIONS}.value = p.sealed"
        )
    finally:
        warehouse.con.unregister("_quality_plain")


def _findings(warehouse: Warehouse, examples: int) -> tuple[ConsistencyFinding, ...]:
    summary = warehouse.rows(
        f"SELECT id_type, attribute, count(*) FILTER (WHERE events >= 2), count(*) FILTER (WHERE conflict), "
        f"count(*) FILTER (WHERE conflict AND sources) FROM {_PER_TOKEN} "
        f"GROUP BY ALL HAVING count(*) FILTER (WHERE events >= 2) > 0 ORDER BY 4 DESC, 1, 2"
    )
    detail = warehouse.rows(
        f"WITH chosen AS (SELECT id_type, token, attribute, events FROM {_PER_TOKEN} WHERE conflict "
        f"  QUALIFY row_number() OVER (PARTITION BY id_type, attribute ORDER BY events DESC, token) <= ?) "
        f"SELECT o.id_type, o.attribute, o.token, o.value, count(*), "
        f"list(DISTINCT o.source ORDER BY o.source), any_value(c.events) AS token_events "
        f"FROM {_OBSERVATIONS} o JOIN chosen c USING (id_type, token, attribute) "
        f"GROUP BY o.id_type, o.attribute, o.token, o.value "
        f"ORDER BY o.id_type, o.attribute, token_events DESC, o.token, 5 DESC, o.value",
        [examples],
    )
    values: dict[tuple[str, str], dict[str, list[ValueCount]]] = defaultdict(lambda: defaultdict(list))
    for id_type, attribute, token, value, count, sources, _ in detail:
        values[(id_type, attribute)][token].append(ValueCount(mask_value(value), int(count), tuple(sources)))
    return tuple(
        ConsistencyFinding(
            identifier_type=id_type,
            attribute=attribute,
            tokens_checked=int(checked),
            tokens_with_conflicts=int(conflicts),
            cross_source=int(cross),
            examples=tuple(
                ConflictExample(token[:TOKEN_PREFIX], tuple(found))
                for token, found in values[(id_type, attribute)].items()
            ),
        )
        for id_type, attribute, checked, conflicts, cross in summary
    )


def mask_value(value: str) -> str:
    """``1990-01-02`` → ``1***-**-*2``, ``张三`` → ``张*``: enough to tell values apart, not to read them.

    Up to three characters only the first stays (a Chinese name shows its surname); longer values keep
    their first and last. Separators stay so a date still looks like a date, and a one-character value (a
    gender code) identifies no one and is shown as it is. Written here because the masking of stored
    identifiers (``138****5678``) serves one known kind each, while this must cope with any attribute.
    """
    if len(value) <= 1:
        return value
    if len(value) <= 3:
        return value[0] + "".join(c if c in _KEEP else "*" for c in value[1:])
    middle = "".join(c if c in _KEEP else "*" for c in value[1:-1])
    return value[0] + middle + value[-1]
