"""Bilingual labels: every user-facing string has zh-CN and English text."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, ConfigDict

Language = Literal["zh", "en"]


class Label(BaseModel):
    """A user-facing label in Simplified Chinese and English."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    zh: str
    en: str

    def text(self, language: Language | None = None) -> str:
        return self.zh if (language or current_language()) == "zh" else self.en


def current_language() -> Language:
    """The display language: ``HUAXIANG_LANG`` (``zh``/``en``), else the locale, else English."""
    wanted = os.environ.get("HUAXIANG_LANG") or os.environ.get("LANG", "")
    return "zh" if wanted.lower().startswith("zh") else "en"


def bilingual(zh: str, en: str) -> Label:
    return Label(zh=zh, en=en)
