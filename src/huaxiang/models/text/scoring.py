"""Score the sentiment of one text column of a file, row by row."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from huaxiang.models.text.files import read_columns
from huaxiang.models.text.language import TextLanguage
from huaxiang.models.text.sentiment import SentimentLabel, SentimentModel


@dataclass(frozen=True, slots=True)
class ScoredRow:
    """The sentiment of one row's text; ``row`` counts data rows from 1, as a spreadsheet user would."""

    row: int
    text: str
    text_language: TextLanguage
    positive_probability: float
    label: SentimentLabel

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def score_file(path: Path, *, column: str, model: SentimentModel) -> list[ScoredRow]:
    """Score every row of ``column`` in a CSV, JSON Lines, Parquet or Excel file; empty cells are neutral."""
    values = read_columns(path, [column])[column]
    texts = ["" if value is None else str(value) for value in values]
    return [
        ScoredRow(row, text, score.text_language, score.positive_probability, score.label)
        for row, (text, score) in enumerate(zip(texts, model.score(texts), strict=True), start=1)
    ]
