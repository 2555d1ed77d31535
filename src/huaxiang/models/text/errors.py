"""The error text functions raise when their input cannot be used."""

from __future__ import annotations

from huaxiang.errors import HuaxiangError


class TextInputError(HuaxiangError):
    """A file, column, label or saved model given to the text functions cannot be used."""
