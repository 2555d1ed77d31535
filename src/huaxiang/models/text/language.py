"""Tell Chinese from English text by its script, so each text goes to the model of its language.

Counting Han characters against Latin words is enough for customer reviews, which are written in
one of the two languages; a language-identification library would add a dependency and a model for
no gain here.
"""

from __future__ import annotations

import re
from typing import Literal

TextLanguage = Literal["zh", "en"]

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")


def detect_language(text: str) -> TextLanguage:
    """``"zh"`` when Han characters are at least as many as Latin words, else ``"en"``.

    A Chinese review that names a brand (``iPhone 屏幕碎了``) stays Chinese; text with neither
    script (digits, emoji, empty) is called English, whose model then sees no known words.
    """
    han = len(_HAN.findall(text))
    return "zh" if han > 0 and han >= len(_LATIN_WORD.findall(text)) else "en"
