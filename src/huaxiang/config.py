"""Pydantic models of ``huaxiang.yaml``: the one place a workspace is declared.

Validation errors name the file, the line and the key path (``huaxiang.yaml:41 sources[2].fields[0].kind``)
because a data engineer fixes YAML by line, not by reading a traceback.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from huaxiang.errors import ConfigError
from huaxiang.i18n import Label

CONFIG_FILE = "huaxiang.yaml"

Level = Literal["public", "internal", "personal", "sensitive"]
Role = Literal["identifier", "related_identifier", "attribute", "property"]
Format = Literal["csv", "jsonl", "parquet", "xlsx", "sql"]
Encoding = Literal["auto", "utf-8", "utf-8-sig", "gb18030", "gbk"]
OnInvalid = Literal["quarantine", "null"]

_NAME = r"^[a-z][a-z0-9_]{0,62}$"
_DURATION = re.compile(r"^(?P<n>\d+)\s*(?P<unit>d|w|m|y)$")
_DAYS_PER_UNIT = {"d": 1, "w": 7, "m": 30, "y": 365}

#: Default classification of identifier types and value kinds (PIPL art. 28: ID numbers are sensitive).
DEFAULT_LEVELS: dict[str, Level] = {
    "id_card": "sensitive",
    "phone": "personal",
    "email": "personal",
    "name": "personal",
    "address": "personal",
    "wechat_openid": "personal",
    "crm_id": "internal",
    "user_id": "internal",
    "device_id": "internal",
}
#: Identifier types whose values are validated with a dedicated kind; other types are plain strings.
IDENTIFIER_KINDS = {"phone": "phone", "email": "email", "id_card": "id_card"}


def parse_duration(text: str) -> timedelta:
    """``"30d"``, ``"12w"``, ``"6m"`` (30-day months), ``"3y"`` (365-day years) → timedelta."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f'expected a duration like "30d", "12w", "6m" or "3y", got {text!r}')
    return timedelta(days=int(match["n"]) * _DAYS_PER_UNIT[match["unit"]])


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FieldSpec(_Strict):
    """One source column and what it means."""

    column: str = Field(min_length=1)
    role: Role = "property"
    name: Annotated[str, Field(pattern=_NAME)] | None = None
    kind: str | None = None
    required: bool = False
    on_invalid: OnInvalid | None = None
    level: Level | None = None
    value_map: dict[str, str] = Field(default_factory=dict)
    id_type: Annotated[str, Field(pattern=_NAME)] | None = None

    @model_validator(mode="after")
    def _related(self) -> FieldSpec:
        if (self.role == "related_identifier") != (self.id_type is not None):
            raise ValueError(
                "`id_type` (the other person's identifier type, e.g. phone) goes with role: related_identifier, "
                "and a related_identifier needs it"
            )
        return self

    @property
    def target(self) -> str:
        """The identifier type, attribute or property name this column becomes."""
        if self.name:
            return self.name
        return re.sub(r"[^0-9a-zA-Z_]+", "_", self.column).strip("_").lower() or self.column

    @property
    def value_kind(self) -> str:
        if self.kind:
            return self.kind
        if self.role == "identifier":
            return IDENTIFIER_KINDS.get(self.target, "string")
        if self.id_type is not None:
            return IDENTIFIER_KINDS.get(self.id_type, "string")
        return "string"

    @property
    def invalid_action(self) -> OnInvalid:
        return self.on_invalid or ("quarantine" if self.required else "null")

    @property
    def classification(self) -> Level:
        if self.level:
            return self.level
        if self.id_type is not None:  # another person's identifier is as personal as one's own
            return DEFAULT_LEVELS.get(self.id_type, DEFAULT_LEVELS.get(self.value_kind, "internal"))
        return DEFAULT_LEVELS.get(self.target, DEFAULT_LEVELS.get(self.value_kind, "internal"))


class SourceSpec(_Strict):
    """A source system export and how its records map to events."""

    name: Annotated[str, Field(pattern=_NAME)]
    format: Format
    path: str | None = None
    encoding: Encoding = "auto"
    delimiter: str | None = None
    sheet: str | None = None
    url: str | None = None
    table: str | None = None
    query: str | None = None
    key: list[str] = Field(default_factory=list)
    event_type: Annotated[str, Field(pattern=_NAME)] | None = None
    event_type_column: str | None = None
    event_type_map: dict[str, Annotated[str, Field(pattern=_NAME)]] = Field(default_factory=dict)
    timestamp: str | None = None
    timestamp_formats: list[str] = Field(default_factory=list)
    timezone: str | None = None
    watermark: str | None = None
    retention: str | None = None
    fields: list[FieldSpec] = Field(min_length=1)

    @field_validator("path")
    @classmethod
    def _relative_path(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if Path(value).is_absolute() or ".." in Path(value).parts:
            raise ValueError(
                f"expected a path inside the workspace folder, got {value!r}; "
                "copy or link the data into the workspace (e.g. data/) and use a relative path"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)

    @field_validator("retention")
    @classmethod
    def _retention(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @model_validator(mode="after")
    def _coherent(self) -> SourceSpec:
        if self.format == "sql":
            if not self.url:
                raise ValueError(
                    "a sql source needs `url` (a SQLAlchemy URL such as postgresql+psycopg://...)"
                )
            if bool(self.table) == bool(self.query):
                raise ValueError("a sql source needs exactly one of `table` or `query`")
        elif not self.path:
            raise ValueError(
                f"a {self.format} source needs `path` (relative to the workspace, globs allowed)"
            )
        if bool(self.event_type) == bool(self.event_type_column):
            raise ValueError("give exactly one of `event_type` (a constant) or `event_type_column`")
        columns = [f.column for f in self.fields]
        duplicated = sorted({c for c in columns if columns.count(c) > 1})
        if duplicated:
            raise ValueError(f"columns mapped twice: {', '.join(duplicated)}")
        levels = {f.column: f.classification for f in self.fields}
        personal = [k for k in self.key if levels.get(k) in ("personal", "sensitive")]
        if personal:
            raise ValueError(
                f"key column(s) {', '.join(personal)} hold personal data, which would be kept in clear as the "
                "record key; key on an order, ticket or row id instead, or leave `key` out for a keyed content hash"
            )
        if self.watermark and self.watermark not in {*columns, self.timestamp}:
            raise ValueError(f"watermark column {self.watermark!r} is not the timestamp or a mapped column")
        return self

    @property
    def retention_period(self) -> timedelta | None:
        return parse_duration(self.retention) if self.retention else None


class WorkspaceSpec(_Strict):
    name: Annotated[str, Field(pattern=_NAME)] = "workspace"
    timezone: str = "Asia/Shanghai"
    region: str = Field(default="CN", pattern=r"^[A-Z]{2}$")
    language: Literal["zh", "en"] | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_timezone(value)


KeyProviderName = Literal["auto", "file", "env", "command"]


class KeyProviderSpec(_Strict):
    """Where the master key material comes from (``privacy.keys``): a seam for an external KMS.

    ``auto`` (the default) reads the environment variable when it is set, else the key file; ``file`` and
    ``env`` read only that; ``command`` runs an external program (a KMS or vault client, as an argument list,
    never through a shell) that prints the key material on stdout: a base64 32-byte key, or a keyring
    document as the key file holds it. ``store_command`` receives a new keyring document on stdin, so
    ``huaxiang keys rotate`` can hand a rotated keyring back to the KMS; without it rotation is refused.
    """

    provider: KeyProviderName = "auto"
    command: list[str] | None = Field(default=None, min_length=1)
    store_command: list[str] | None = Field(default=None, min_length=1)
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)

    @model_validator(mode="after")
    def _command_given(self) -> KeyProviderSpec:
        if self.provider == "command" and not self.command:
            raise ValueError(
                "provider: command needs `command`, the program that prints the key, "
                'e.g. command: [vault, kv, get, "-field=keyring", secret/huaxiang]'
            )
        if self.provider != "command" and (self.command or self.store_command):
            raise ValueError("`command` and `store_command` are read only with provider: command")
        return self


class PrivacySpec(_Strict):
    """Where the workspace key lives: never inside the warehouse file."""

    key_env: str = "HUAXIANG_MASTER_KEY"
    key_file: str = ".huaxiang/keys/master.key"
    keys: KeyProviderSpec = Field(default_factory=KeyProviderSpec)


#: Semantic types a matching field may declare (kept equal to ``huaxiang.identity.semantic_types``; a test
#: guards it): config sits below identity in the layer order, so it cannot import the list from there.
MatchSemanticType = Literal[
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


class IdentifierRuleSpec(_Strict):
    """Rules of one identifier type; a key left out keeps the built-in default of that type.

    ``max_per_person``: the most distinct values of this type one person may have (``unlimited`` for no
    limit). ``max_persons_per_value``: the most persons one value may belong to; above 1 the type is
    *shared* (a family tablet): it never merges persons, it only attaches to them. ``blocklist``: junk values,
    written as users would type them, added to the built-in list unless ``default_blocklist`` is false.
    """

    priority: int | None = Field(default=None, ge=0, le=1000)
    max_per_person: Annotated[int, Field(ge=1)] | Literal["unlimited"] | None = None
    max_persons_per_value: int | None = Field(default=None, ge=1)
    blocklist: list[str] = Field(default_factory=list)
    default_blocklist: bool = True


class MatchSpec(_Strict):
    """Probabilistic matching of ``identify`` records that share no identifier.

    ``fields`` maps an attribute name to its semantic type; left out, every attribute named like a semantic
    type (``full_name``, ``birth_date``, ``city`` …) is used; ``{}`` turns matching off.
    """

    enabled: bool = True
    event_types: list[Annotated[str, Field(pattern=_NAME)]] = Field(default_factory=lambda: ["identify"])
    fields: dict[str, MatchSemanticType] | None = None
    threshold: float = Field(default=0.99, gt=0.0, lt=1.0)
    max_pairs: int = Field(default=10_000_000, ge=1)
    seed: int = 20240601


class IdentitySpec(_Strict):
    """Identity resolution: identifier-type rules and probabilistic matching."""

    types: dict[Annotated[str, Field(pattern=_NAME)], IdentifierRuleSpec] = Field(default_factory=dict)
    default: IdentifierRuleSpec = Field(default_factory=IdentifierRuleSpec)
    match: MatchSpec = Field(default_factory=MatchSpec)


# --- traits and tags: what a profile is made of (docs/configuration.md "traits" and "tags") ---------------

Aggregation = Literal[
    "count", "sum", "avg", "min", "max", "first", "last", "distinct_count", "mode", "top_k", "attribute"
]
Dimension = Literal["demographic", "behavior", "interest", "social", "lifecycle", "value", "risk"]
TagKind = Literal["attribute", "rule", "statistic", "model"]
TagValueType = Literal["string", "number", "boolean", "date", "timestamp", "list"]
Cadence = Literal["on_build", "daily", "weekly", "monthly"]
TagValue = bool | int | float | str


def _expression_text(value: str | None) -> str | None:
    """Refuse text outside the expression language now, with the YAML line; names are checked at build."""
    if value is None:
        return None
    from huaxiang.expressions import ExpressionError, check_syntax  # sqlglot loads only when needed

    try:
        check_syntax(value)
    except ExpressionError as error:
        raise ValueError(f"{error.message}{'; ' + error.hint if error.hint else ''}") from None
    return value


class TraitSpec(_Strict):
    """One trait: an aggregation over a person's events, or the current value of an attribute.

    ``of`` is an expression over event fields (for ``attribute``: the attribute's name), ``where`` an event
    filter, ``window`` the last N days before the as-of time (null: all time). ``top_k`` ranks values by
    count, or by ``weight`` and a ``decay`` half-life when given; ``mode`` is its first value.
    """

    name: Annotated[str, Field(pattern=_NAME)]
    agg: Aggregation
    of: str | None = None
    where: str | None = None
    window: str | None = None
    k: int = Field(default=3, ge=1, le=50)
    weight: str | None = None
    decay: str | None = None
    sources: list[Annotated[str, Field(pattern=_NAME)]] = Field(default_factory=list)
    label: Label | None = None
    description: Label | None = None

    @field_validator("of", "where", "weight")
    @classmethod
    def _expressions(cls, value: str | None) -> str | None:
        return _expression_text(value)

    @field_validator("window", "decay")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @model_validator(mode="after")
    def _coherent(self) -> TraitSpec:
        if self.agg not in ("count",) and not self.of:
            raise ValueError(f"agg: {self.agg} needs `of` (the value to aggregate)")
        if self.agg == "attribute" and self.of and not re.match(r"^\w+$", self.of.strip()):
            raise ValueError("agg: attribute takes the attribute's name in `of` (e.g. of: city)")
        if (self.weight or self.decay) and self.agg not in ("top_k", "mode"):
            raise ValueError("`weight` and `decay` apply to agg: top_k and mode only")
        if self.sources and self.agg != "attribute":
            raise ValueError("`sources` (a priority order) applies to agg: attribute only")
        return self

    @property
    def window_period(self) -> timedelta | None:
        return parse_duration(self.window) if self.window else None

    @property
    def half_life(self) -> timedelta | None:
        return parse_duration(self.decay) if self.decay else None


class TagCase(_Strict):
    """One branch of a rule tag: the first case whose condition holds gives the value."""

    value: TagValue
    when: str

    @field_validator("when")
    @classmethod
    def _condition(cls, value: str) -> str | None:
        return _expression_text(value)


class QuantileSpec(_Strict):
    """Equal-frequency bins 1..bins of a value over everyone who has one (``descending``: small is high)."""

    of: str
    bins: int = Field(default=5, ge=2, le=100)
    descending: bool = False

    @field_validator("of")
    @classmethod
    def _value(cls, value: str | None) -> str | None:
        return _expression_text(value)


class RfmSpec(_Strict):
    """The eight classic RFM groups from three 1-5 score tags, each high when above its population mean."""

    recency: Annotated[str, Field(pattern=_NAME)]
    frequency: Annotated[str, Field(pattern=_NAME)]
    monetary: Annotated[str, Field(pattern=_NAME)]


class TagSpec(_Strict):
    """One tag of the catalogue: a documented label computed from traits (and earlier tags)."""

    name: Annotated[str, Field(pattern=_NAME)]
    dimension: Dimension
    kind: TagKind = "rule"
    value_type: TagValueType = "string"
    label: Label
    description: Label | None = None
    cadence: Cadence = "on_build"
    owner: str | None = None
    of: str | None = None
    cases: list[TagCase] = Field(default_factory=list)
    otherwise: TagValue | None = None
    quantile: QuantileSpec | None = None
    rfm: RfmSpec | None = None
    values: dict[str, Label] = Field(default_factory=dict)

    @field_validator("of")
    @classmethod
    def _value(cls, value: str | None) -> str | None:
        return _expression_text(value)

    @model_validator(mode="after")
    def _coherent(self) -> TagSpec:
        given = [k for k in ("of", "cases", "quantile", "rfm") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of `of` (an expression), `cases` (rules), `quantile` or `rfm`, "
                f"got {', '.join(given) or 'none'}"
            )
        statistic = bool(self.quantile or self.rfm)
        if statistic != (self.kind == "statistic"):
            raise ValueError("`quantile` and `rfm` are the statistic kind: use them with kind: statistic")
        if self.cases and self.kind != "rule":
            raise ValueError("`cases` belong to kind: rule")
        if self.quantile and self.value_type != "number":
            raise ValueError("a quantile tag has value_type: number (its bin, 1..bins)")
        if self.rfm and self.value_type != "string":
            raise ValueError("an rfm tag has value_type: string (the group's name)")
        return self


class TraitsSpec(_Strict):
    """The traits section: the standard library's traits (unless ``standard: false``) and your own."""

    standard: bool = True
    definitions: list[TraitSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> TraitsSpec:
        _refuse_repeats([t.name for t in self.definitions], "trait")
        return self


class LifecycleSpec(_Strict):
    """Day thresholds of the standard lifecycle tag (prospect, new, active, at_risk, dormant, churned)."""

    new_days: int = Field(default=30, ge=1)
    active_days: int = Field(default=90, ge=1)
    at_risk_days: int = Field(default=180, ge=1)
    dormant_days: int = Field(default=365, ge=1)

    @model_validator(mode="after")
    def _increasing(self) -> LifecycleSpec:
        if not self.active_days < self.at_risk_days < self.dormant_days:
            raise ValueError("expected active_days < at_risk_days < dormant_days")
        return self


class TagsSpec(_Strict):
    """The tags section: the standard tag library (unless ``standard: false``), its settings, your own tags."""

    standard: bool = True
    lifecycle: LifecycleSpec = Field(default_factory=LifecycleSpec)
    definitions: list[TagSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> TagsSpec:
        _refuse_repeats([t.name for t in self.definitions], "tag")
        return self


def _refuse_repeats(names: list[str], what: str) -> None:
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{what} names must be unique, repeated: {', '.join(repeated)}")


class ChurnSpec(_Strict):
    """What churn means here: no qualifying event within ``horizon_days`` after a cutoff.

    The churn model learns from ``cutoffs`` past cutoffs ``cutoff_step_days`` apart and is validated on a
    later one, so every setting here changes both the labels and the evaluation.
    """

    horizon_days: int = Field(default=90, ge=1, le=3650)
    event_types: list[Annotated[str, Field(pattern=_NAME)]] = Field(
        default_factory=lambda: ["purchase"], min_length=1
    )
    cutoffs: int = Field(default=4, ge=1, le=52)
    cutoff_step_days: int = Field(default=30, ge=1, le=3650)


class Config(_Strict):
    version: Literal[1] = 1
    workspace: WorkspaceSpec = Field(default_factory=WorkspaceSpec)
    privacy: PrivacySpec = Field(default_factory=PrivacySpec)
    sources: list[SourceSpec] = Field(default_factory=list)
    identity: IdentitySpec = Field(default_factory=IdentitySpec)
    traits: TraitsSpec = Field(default_factory=TraitsSpec)
    tags: TagsSpec = Field(default_factory=TagsSpec)
    churn: ChurnSpec = Field(default_factory=ChurnSpec)

    @model_validator(mode="after")
    def _unique_sources(self) -> Config:
        names = [s.name for s in self.sources]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"source names must be unique, repeated: {', '.join(duplicated)}")
        return self

    def source(self, name: str) -> SourceSpec:
        for spec in self.sources:
            if spec.name == name:
                return spec
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"no source named {name!r}", hint=f"sources in this workspace: {known}")


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"expected an IANA time zone such as Asia/Shanghai or UTC, got {value!r}") from None
    return value


def load_config(path: Path) -> Config:
    """Read and validate ``huaxiang.yaml``; errors carry ``file:line key.path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            "no huaxiang.yaml here", location=str(path), hint="create a workspace with `huaxiang init DIR`"
        ) from None
    return parse_config(text, source_name=str(path))


def parse_config(text: str, *, source_name: str = CONFIG_FILE) -> Config:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{source_name}:{mark.line + 1}" if mark else source_name
        raise ConfigError(f"not valid YAML ({getattr(error, 'problem', error)})", location=where) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            "expected a mapping of top-level keys (workspace, sources, …)", location=source_name
        )
    lines = _line_index(node)
    try:
        return Config.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        loc = tuple(first["loc"])
        line = _closest_line(lines, loc)
        where = f"{source_name}:{line} {_key_path(loc)}" if line else f"{source_name} {_key_path(loc)}"
        more = len(error.errors()) - 1
        message = _readable(first)
        hint = f"{more} more problem(s) after this one" if more else None
        raise ConfigError(message, location=where.strip(), hint=hint) from None


def _readable(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return "unknown key; see docs/configuration.md for the keys this section accepts"
    if error["type"] == "literal_error":
        return f"{message}, got {error.get('input')!r}"
    if error["type"] == "string_pattern_mismatch":
        return f"expected lower_snake_case (letters, digits, _), got {error.get('input')!r}"
    return message


def _key_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_index(node: yaml.Node | None) -> dict[tuple[Any, ...], int]:
    """Map every key path in the YAML document to its 1-based line."""
    index: dict[tuple[Any, ...], int] = {}

    def walk(current: yaml.Node, path: tuple[Any, ...]) -> None:
        index[path] = current.start_mark.line + 1
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                child = (*path, key.value)
                walk(value, child)
                index[child] = key.start_mark.line + 1
        elif isinstance(current, yaml.SequenceNode):
            for position, value in enumerate(current.value):
                walk(value, (*path, position))

    if node is not None:
        walk(node, ())
    return index


def _closest_line(index: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in index:
            return index[loc[:end]]
    return None
