"""The one error of the expression language: what is wrong, where in the text, and how to fix it."""

from __future__ import annotations

from huaxiang.errors import HuaxiangError


class ExpressionError(HuaxiangError):
    """An expression that cannot be accepted; ``offset`` is the 0-based position of the culprit, if known."""

    def __init__(
        self,
        message: str,
        *,
        text: str,
        offset: int | None = None,
        where: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.text = text
        self.offset = offset
        self.where = where
        self.reason = message
        position = _position(text, offset)
        located = f"{message} ({position})" if position else message
        super().__init__(f"{located} in {_excerpt(text)}", location=where, hint=hint)

    def at(self, where: str) -> ExpressionError:
        """The same error, located in a file and key (``huaxiang.yaml traits.definitions[2].where``)."""
        return ExpressionError(self.reason, text=self.text, offset=self.offset, where=where, hint=self.hint)


def _position(text: str, offset: int | None) -> str | None:
    if offset is None:
        return None
    before = text[:offset]
    line = before.count("\n") + 1
    column = offset - (before.rfind("\n") + 1) + 1
    return f"line {line}, column {column}" if "\n" in text else f"column {column}"


def _excerpt(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[: limit - 1] + "…")
