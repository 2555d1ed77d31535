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

CONFIG_FILE = "huaxiang.yaml"

Level = Literal["public", "internal", "personal", "sensitive"]
Role = Literal["identifier", "attribute", "property"]
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
        return "string"

    @property
    def invalid_action(self) -> OnInvalid:
        return self.on_invalid or ("quarantine" if self.required else "null")

    @property
    def classification(self) -> Level:
        if self.level:
            return self.level
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


class PrivacySpec(_Strict):
    """Where the workspace key lives: never inside the warehouse file."""

    key_env: str = "HUAXIANG_MASTER_KEY"
    key_file: str = ".huaxiang/keys/master.key"


class Config(_Strict):
    version: Literal[1] = 1
    workspace: WorkspaceSpec = Field(default_factory=WorkspaceSpec)
    privacy: PrivacySpec = Field(default_factory=PrivacySpec)
    sources: list[SourceSpec] = Field(default_factory=list)

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
