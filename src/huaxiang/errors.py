"""One root error with a location and a hint, so every failure says where and how to fix it."""

from __future__ import annotations


class HuaxiangError(Exception):
    """Base error: ``location: message; hint``.

    ``location`` is a file path with an optional line and key path
    (``huaxiang.yaml:41 sources[2].fields[0].kind``); ``hint`` says how to fix it.
    """

    def __init__(self, message: str, *, location: str | None = None, hint: str | None = None) -> None:
        self.message = message
        self.location = location
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        return f"{text}; {self.hint}" if self.hint else text


class ConfigError(HuaxiangError):
    """``huaxiang.yaml`` is missing, unreadable or invalid."""


class SourceError(HuaxiangError):
    """A source cannot be read at all (missing file, unreadable encoding, bad SQL URL)."""


class KeyMaterialError(HuaxiangError):
    """The workspace key is missing, unreadable or does not fit the data."""


class NotFoundError(HuaxiangError):
    """A person, record, run or quarantined record that was asked for does not exist."""
