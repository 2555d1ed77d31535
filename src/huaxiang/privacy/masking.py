"""Masking by role: what each role sees of each classification level, and how a value is masked.

Masks keep what a person needs to recognise a value (``138****5678``, ``张*``, ``z***@example.com``,
an address cut to its city and district) and nothing that identifies it. Every mask is idempotent (masking
a masked value changes nothing) by construction: the kept characters stay in place and the rest become
``*``, so no "already masked?" test is needed that a crafted value could fool.
"""

from __future__ import annotations

import contextlib
import functools
import io
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

import phonenumbers

from huaxiang.config import Level
from huaxiang.privacy.classification import FieldClass
from huaxiang.privacy.roles import Role

Visibility = Literal["clear", "masked", "hidden"]

#: Role × level → what the role sees. Least privilege: analysts and marketers work on masked personal
#: data and never see sensitive data; a service agent sees the customer they serve in clear (one person
#: at a time, through :func:`~huaxiang.privacy.reader.read_person`) but sensitive values masked; the
#: administrator runs the system and sees personal data masked; the DPO sees everything, always audited.
DEFAULT_POLICY: Mapping[Role, Mapping[Level, Visibility]] = {
    "admin": {"public": "clear", "internal": "clear", "personal": "masked", "sensitive": "masked"},
    "analyst": {"public": "clear", "internal": "clear", "personal": "masked", "sensitive": "hidden"},
    "marketer": {"public": "clear", "internal": "clear", "personal": "masked", "sensitive": "hidden"},
    "service": {"public": "clear", "internal": "clear", "personal": "clear", "sensitive": "masked"},
    "dpo": {"public": "clear", "internal": "clear", "personal": "clear", "sensitive": "clear"},
}


@dataclass(frozen=True, slots=True)
class Shown:
    """A value as a role may see it; ``value`` is None when hidden."""

    value: str | None
    visibility: Visibility


def visibility(
    role: Role, level: Level, policy: Mapping[Role, Mapping[Level, Visibility]] = DEFAULT_POLICY
) -> Visibility:
    return policy[role][level]


def _keep(text: str, head: int, tail: int) -> str:
    """Keep ``head`` leading and ``tail`` trailing characters, star the rest (same length)."""
    if len(text) <= head + tail:
        head, tail = min(head, max(len(text) - 1, 0)), 0
    return text[:head] + "*" * (len(text) - head - tail) + (text[len(text) - tail :] if tail else "")


def mask_text(value: str) -> str:
    """Generic mask: first and last character kept (``abcdef`` → ``a****f``; ``ab`` → ``a*``)."""
    return _keep(value, 1, 1 if len(value) > 2 else 0)


def mask_phone(value: str) -> str:
    """``+8613812345678`` → ``138****5678``: national number, first 3 and last 4 digits when 11 or more.

    Shorter numbers keep 2 + 2. The country code is dropped (it is not needed to recognise a number).
    """
    national = value
    if value.startswith("+86"):
        national = value[3:]
    elif value.startswith("+"):
        try:
            national = str(phonenumbers.national_significant_number(phonenumbers.parse(value, None)))
        except phonenumbers.NumberParseException:
            return mask_text(value)
    if len(national) >= 11:
        return _keep(national, 3, 4)
    return _keep(national, 2, 2) if len(national) > 4 else _keep(national, 1, 0)


def mask_id_card(value: str) -> str:
    """``11010519491231002X`` → ``110105********002X``: region code and last four kept."""
    return _keep(value, 6, 4) if len(value) == 18 else mask_text(value)


def mask_name(value: str) -> str:
    """``张伟`` → ``张*``, ``张三丰`` → ``张**``, ``John Smith`` → ``J*** S****``."""
    return " ".join(_keep(word, 1, 0) for word in value.split(" "))


def mask_email(value: str) -> str:
    """``zhang.wei@example.com`` → ``z***@example.com`` (the local part's length is not shown)."""
    local, at, domain = value.rpartition("@")
    if not at or not local:
        return mask_text(value)
    return f"{local[0]}***@{domain}"


def mask_date(value: str) -> str:
    """``1949-12-31`` → ``1949-**-**``: the year stays (age bands), month and day go."""
    return value[:4] + "".join("*" if c.isdigit() else c for c in value[4:])


_JIONLP_LOCK = threading.Lock()


@functools.cache
def _jionlp() -> ModuleType:
    # Imported on first use with its banner silenced (it prints on import and takes about a second). The
    # ingest package has the same loader, but this layer sits below ingest and may not import it.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        import jionlp
    module: ModuleType = jionlp
    return module


def mask_address(value: str, parts: tuple[str | None, ...] | None = None) -> str:
    """``北京市朝阳区建国路88号`` → ``北京市朝阳区``: cut to province, city and district.

    ``parts`` (province, city, district), when ingest already derived them, saves parsing the text again.
    A text in which no place can be found is masked completely.
    """
    if parts is None:
        with _JIONLP_LOCK:
            parsed: dict[str, Any] = _jionlp().parse_location(value, town_village=False, change2new=True)
        parts = (parsed.get("province"), parsed.get("city"), parsed.get("county"))
    kept = "".join(dict.fromkeys(p for p in parts if p))
    return kept or "*" * min(len(value), 8)


def _star(value: str) -> str:
    return "*"


_MASKS: dict[str, Callable[[str], str]] = {
    "phone": mask_phone,
    "id_card": mask_id_card,
    "name": mask_name,
    "email": mask_email,
    "address": mask_address,
    "date": mask_date,
    "timestamp": mask_date,
    "gender": _star,
    "boolean": _star,
    "amount": _star,
    "number": _star,
    "integer": _star,
    "region": lambda value: value,  # a province, city or district is already the masked form of an address
}


def mask(value: str, kind: str) -> str:
    """Mask one value by its kind (``string`` and unknown kinds get :func:`mask_text`)."""
    return _MASKS.get(kind, mask_text)(value)


def present(
    value: Any,
    field_class: FieldClass,
    role: Role,
    *,
    policy: Mapping[Role, Mapping[Level, Visibility]] = DEFAULT_POLICY,
    address_parts: tuple[str | None, ...] | None = None,
) -> Shown:
    """The value as ``role`` may see it: clear, masked by kind, or hidden (None)."""
    seen = visibility(role, field_class.level, policy)
    if value is None or seen == "hidden":
        return Shown(None, seen)
    text = value if isinstance(value, str) else str(value)
    if seen == "clear":
        return Shown(text, seen)
    if field_class.kind == "address" and address_parts is not None:
        return Shown(mask_address(text, address_parts), seen)
    return Shown(mask(text, field_class.kind), seen)
