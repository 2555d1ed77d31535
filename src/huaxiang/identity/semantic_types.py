"""What a matching field means and how it is compared: the user declares a semantic type per column.

Why semantic types and not comparison settings: users know what a column holds (a birth date, a phone), not
which string distance or blocking rule suits it. The type also says which fields move together for two
different people (an e-mail is often made from the name; a Chinese ID number holds the birth date), which
decides the training blocks, and which agreement levels a comparison has.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal, get_args

from huaxiang.errors import ConfigError
from huaxiang.i18n import Label

SemanticType = Literal[
    "full_name",
    "given_name",
    "family_name",
    "birth_date",
    "gender",
    "phone",
    "email",
    "address",
    "street",
    "city",
    "postcode",
    "state",
    "id_number",
    "text",
]
SEMANTIC_TYPES: Final[tuple[SemanticType, ...]] = get_args(SemanticType)

LevelKind = Literal[
    "exact",
    "prefix",
    "levenshtein",
    "damerau_levenshtein",
    "jaro_winkler",
    "username",
    "username_jaro_winkler",
]

RECORD_ID: Final = "record_id"
SOURCE_DATASET: Final = "source_dataset"
RESERVED_COLUMNS: Final = frozenset({RECORD_ID, SOURCE_DATASET})

NAME_TYPES: Final = frozenset[SemanticType]({"full_name", "given_name", "family_name"})
PLACE_TYPES: Final = frozenset[SemanticType]({"address", "street", "city", "postcode", "state"})

# Pairs of types whose values agree more often than chance for two *different* people, so that a training
# block on one distorts the estimate of the other.
_CORRELATED: Final[tuple[tuple[SemanticType, SemanticType], ...]] = (
    ("full_name", "given_name"),
    ("full_name", "family_name"),
    ("full_name", "email"),
    ("full_name", "gender"),
    ("given_name", "email"),
    ("given_name", "gender"),
    ("family_name", "email"),
    ("id_number", "birth_date"),  # 居民身份证 and many national ids embed the birth date
    ("id_number", "gender"),
    *((place, "id_number") for place in sorted(PLACE_TYPES)),  # and the region of registration
    *((a, b) for a in sorted(PLACE_TYPES) for b in sorted(PLACE_TYPES) if a < b),
)


def correlated(a: SemanticType, b: SemanticType) -> bool:
    """Whether two fields of these types agree more often than chance for two different people."""
    return a == b or (a, b) in _CORRELATED or (b, a) in _CORRELATED


@dataclass(frozen=True, slots=True)
class MatchField:
    """One column used for matching and what it holds."""

    column: str
    semantic_type: SemanticType

    def __post_init__(self) -> None:
        if self.semantic_type not in SEMANTIC_TYPES:
            raise ConfigError(
                f"unknown semantic type {self.semantic_type!r} for column {self.column!r}",
                location=f"identity.fields[{self.column}]",
                hint=f"use one of {', '.join(SEMANTIC_TYPES)}",
            )
        if not self.column.strip():
            raise ConfigError("a matching field needs a column name", location="identity.fields")


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """How probabilistic matching runs.

    ``threshold`` is the match probability at and above which two records are linked. ``max_pairs`` caps the
    candidate pairs one prediction blocking rule may add, and ``max_pairs_per_record`` caps them again at
    that many per input record (a larger rule is left out), so the work grows with the data, not with its
    square. ``u_sample_pairs`` and ``training_max_pairs`` bound the random pairs used to estimate u and the
    pairs per EM training block; ``seed`` makes both repeatable.
    """

    fields: tuple[MatchField, ...]
    threshold: float = 0.9
    max_pairs: int = 10_000_000
    max_pairs_per_record: int = 10
    u_sample_pairs: int = 1_000_000
    training_max_pairs: int = 2_000_000
    seed: int = 20240601

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold < 1.0:
            raise ConfigError(
                f"match threshold must lie strictly between 0 and 1, got {self.threshold}",
                location="identity.threshold",
                hint="0.9 links pairs that are nine times likelier to match than not",
            )
        for name in ("max_pairs", "max_pairs_per_record", "u_sample_pairs", "training_max_pairs"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive", location=f"identity.{name}")


@dataclass(frozen=True, slots=True)
class PlannedField:
    """A declared field and the columns it becomes in the prepared table."""

    field: MatchField
    name: str
    key: str | None = None
    sorted_parts: str | None = None

    @property
    def semantic_type(self) -> SemanticType:
        return self.field.semantic_type

    @property
    def block_key(self) -> str:
        """The column two records must share for this field in a blocking rule."""
        return self.sorted_parts or self.key or self.name


@dataclass(frozen=True, slots=True)
class LevelPlan:
    """One agreement level of a comparison, in no SQL dialect."""

    kind: LevelKind
    column: str
    label: Label
    threshold: float | None = None
    term_frequencies: bool = False
    implies_equal_key: bool = False


@dataclass(frozen=True, slots=True)
class ComparisonPlan:
    """How one field is compared: levels from most to least alike, between a null level and an "else" level."""

    field: PlannedField
    levels: tuple[LevelPlan, ...]


def plan_fields(fields: Sequence[MatchField]) -> tuple[PlannedField, ...]:
    """Name the prepared columns of each field: safe identifiers, plus romanised keys for names."""
    taken: set[str] = set(RESERVED_COLUMNS)
    planned: list[PlannedField] = []
    for index, f in enumerate(fields):
        base = re.sub(r"[^0-9a-z_]+", "_", f.column.lower()).strip("_")
        if not base or base[0].isdigit() or f"{base}_key" in taken or base in taken:
            base = f"{f.semantic_type}_{index}"
        taken.update({base, f"{base}_key", f"{base}_parts"})
        if f.semantic_type in NAME_TYPES:
            parts = f"{base}_parts" if f.semantic_type == "full_name" else None
            planned.append(PlannedField(f, base, key=f"{base}_key", sorted_parts=parts))
        else:
            planned.append(PlannedField(f, base))
    return tuple(planned)


def _label(zh: str, en: str) -> Label:
    return Label(zh=zh, en=en)


def comparison_levels(p: PlannedField) -> tuple[LevelPlan, ...]:
    """The agreement levels of one field from most to least alike, chosen by its semantic type.

    Names agree first on their romanised key (张伟 = 章伟 = Zhang Wei, parts in any order for a full name),
    then by one character (a look-alike 王/玉, or a typo), then by Jaro-Winkler on the key. Identical
    characters and identical pinyin share one level: a level that almost never occurs between different
    people keeps Splink's u sampling running through its whole budget, and is poorly estimated anyway.
    Digits (dates, phones, ids) use Damerau-Levenshtein, since two swapped digits are the commonest slip;
    names use plain Levenshtein, five times cheaper, as Jaro-Winkler already forgives a swap in a name.
    """
    t, c = p.semantic_type, p.name
    exact = LevelPlan("exact", c, _label("完全相同", "exactly equal"), implies_equal_key=True)
    one_edit = LevelPlan("damerau_levenshtein", c, _label("相差一个字符", "one character different"), 1)
    two_edits = LevelPlan("damerau_levenshtein", c, _label("相差两个字符", "two characters different"), 2)
    if t in NAME_TYPES:
        assert p.key is not None
        same = (
            _label(
                "姓名各部分相同（拼音/拼写，顺序、大小写、空格、声调不计）",
                "same name parts (pinyin or spelling; order, case, spaces, tones ignored)",
            )
            if p.sorted_parts is not None
            else _label(
                "拼音/拼写相同（大小写、空格、声调不计）",
                "same pinyin or spelling (case, spaces, tones ignored)",
            )
        )
        return (
            LevelPlan("exact", p.block_key, same, term_frequencies=True, implies_equal_key=True),
            LevelPlan(
                "levenshtein",
                c,
                _label("相差一个字（形近字或笔误）", "one character different (look-alike or typo)"),
                1,
            ),
            LevelPlan(
                "jaro_winkler",
                p.key,
                _label("拼音 Jaro-Winkler ≥ 0.88", "pinyin/spelling Jaro-Winkler ≥ 0.88"),
                0.88,
            ),
            LevelPlan(
                "jaro_winkler",
                p.key,
                _label("拼音 Jaro-Winkler ≥ 0.80", "pinyin/spelling Jaro-Winkler ≥ 0.80"),
                0.80,
            ),
        )
    if t == "birth_date":
        return (
            exact,
            LevelPlan(
                "damerau_levenshtein",
                c,
                _label("一位数字不同或相邻两位颠倒", "one digit wrong or two swapped"),
                1,
            ),
            LevelPlan("prefix", c, _label("同年同月", "same year and month"), 6),
        )
    if t in {"phone", "id_number"}:
        return exact, one_edit, two_edits
    if t == "email":
        return (
            LevelPlan(
                "exact", c, _label("完全相同", "exactly equal"), term_frequencies=True, implies_equal_key=True
            ),
            LevelPlan("username", c, _label("用户名相同", "same user name")),
            LevelPlan("jaro_winkler", c, _label("Jaro-Winkler ≥ 0.88", "Jaro-Winkler ≥ 0.88"), 0.88),
            LevelPlan(
                "username_jaro_winkler",
                c,
                _label("用户名 Jaro-Winkler ≥ 0.88", "user name Jaro-Winkler ≥ 0.88"),
                0.88,
            ),
        )
    if t == "postcode":
        return exact, one_edit
    if t == "city":
        return (
            LevelPlan(
                "exact", c, _label("完全相同", "exactly equal"), term_frequencies=True, implies_equal_key=True
            ),
            LevelPlan("jaro_winkler", c, _label("Jaro-Winkler ≥ 0.90", "Jaro-Winkler ≥ 0.90"), 0.90),
        )
    if t in {"address", "street"}:
        return (
            exact,
            LevelPlan("jaro_winkler", c, _label("Jaro-Winkler ≥ 0.90", "Jaro-Winkler ≥ 0.90"), 0.90),
            LevelPlan("jaro_winkler", c, _label("Jaro-Winkler ≥ 0.75", "Jaro-Winkler ≥ 0.75"), 0.75),
        )
    if t in {"gender", "state"}:
        return (exact,)
    return exact, LevelPlan("jaro_winkler", c, _label("Jaro-Winkler ≥ 0.88", "Jaro-Winkler ≥ 0.88"), 0.88)
