"""Spelling-independent keys for person names: Chinese characters become pinyin, Latin letters lose case and accents.

Why: 张伟, 章伟 and "Zhang Wei" are one person written three ways but share few characters, so names are
compared on a romanised key (pypinyin for the characters, tones dropped) beside their written form. pypinyin
has no surname reading mode, so the surnames read differently from the character's everyday reading (曾 zeng,
not ceng) and the compound surnames (欧阳) are listed here by hand.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from pypinyin import Style, lazy_pinyin

NameRole = Literal["full", "family", "given"]

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NOT_WORD = re.compile(r"[^\w]+|_+")

# Surnames whose reading differs from pypinyin's everyday reading of the character (曾 is ceng there).
_SURNAME_READINGS = {
    "曾": "zeng", "单": "shan", "解": "xie", "区": "ou", "仇": "qiu", "查": "zha", "朴": "piao", "盖": "ge",
    "乐": "yue", "覃": "qin", "缪": "miao", "尉": "yu", "翟": "zhai", "秘": "bi", "种": "chong",
}  # fmt: skip
_COMPOUND_SURNAMES = frozenset({
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "令狐", "夏侯", "轩辕",
    "宇文", "司徒", "端木", "独孤", "南宫", "西门", "百里", "呼延", "申屠", "太史", "澹台", "闻人", "万俟",
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class NameKey:
    """A name's romanised spelling (``zhangwei``) and its parts in sorted order (``wei zhang``)."""

    key: str | None
    sorted_parts: str | None


def contains_cjk(text: str) -> bool:
    """Whether ``text`` holds at least one Chinese character."""
    return _CJK.search(text) is not None


def name_parts(text: str, *, role: NameRole = "full") -> list[str]:
    """The romanised, lower-case parts of a name, split the way the name would be written in Latin letters.

    A run of Chinese characters is one part (淑英 → ``shuying``, as in "Shuying Wei"); in a full name a leading
    surname becomes a part of its own (曾小明 → ``zeng``, ``xiaoming``; 欧阳娜娜 → ``ouyang``, ``nana``) and a
    family name is read as a surname throughout (曾 → ``zeng``, not ``ceng``). Latin words are parts as written.
    """
    parts: list[str] = []
    for chunk in _NOT_WORD.split(unicodedata.normalize("NFKC", text)):
        if not chunk:
            continue
        if not contains_cjk(chunk):
            parts.append(_fold_latin(chunk))
        elif role == "family":
            parts.append(_romanise(chunk, surname=True))
        elif role == "full" and not parts and len(chunk) > 1:
            split = 2 if chunk[:2] in _COMPOUND_SURNAMES and len(chunk) > 2 else 1
            parts += [_romanise(chunk[:split], surname=True), _romanise(chunk[split:], surname=False)]
        else:
            parts.append(_romanise(chunk, surname=False))
    return [part for part in parts if part]


def name_key(text: str, *, role: NameRole = "full") -> NameKey:
    """The romanised key of one name (``张伟`` and ``Zhang Wei`` → ``zhangwei``), ``None`` when nothing is left."""
    parts = name_parts(text, role=role)
    if not parts:
        return NameKey(None, None)
    return NameKey("".join(parts), " ".join(sorted(parts)))


def name_keys(values: Iterable[str], *, role: NameRole = "full") -> dict[str, NameKey]:
    """Keys for many distinct names at once (pypinyin costs tens of microseconds a name, so call it once a value)."""
    return {value: name_key(value, role=role) for value in values}


@lru_cache(maxsize=1 << 16)
def _romanise(piece: str, *, surname: bool) -> str:
    """Pinyin of a run of characters; cached because surnames and given names repeat across many full names
    (a million names hold a few thousand distinct given names), so most names cost a dictionary look-up."""
    syllables = lazy_pinyin(piece, style=Style.NORMAL, v_to_u=True, errors="default")
    if surname and len(piece) == 1 and piece in _SURNAME_READINGS:
        syllables = [_SURNAME_READINGS[piece]]
    return _fold_latin("".join(syllables))


def _fold_latin(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))
