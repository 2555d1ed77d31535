from __future__ import annotations

import json
from pathlib import Path

import duckdb
import openpyxl
import pytest

from huaxiang.models.text import SentimentModel, TextInputError, read_labelled_file, score_file

ROWS = [("1", "客服态度很差，退款一直不处理"), ("2", ""), ("3", "Great phone, love the screen.")]


def _write(path: Path) -> Path:
    suffix = path.suffix
    if suffix == ".csv":
        path.write_text("id,comment\n" + "".join(f'{i},"{t}"\n' for i, t in ROWS), encoding="utf-8")
    elif suffix == ".jsonl":
        path.write_text(
            "".join(json.dumps({"id": i, "comment": t}) + "\n" for i, t in ROWS), encoding="utf-8"
        )
    elif suffix == ".parquet":
        values = ", ".join(f"('{i}', '{t}')" for i, t in ROWS)
        duckdb.sql(f"COPY (SELECT * FROM (VALUES {values}) AS t(id, comment)) TO '{path}' (FORMAT parquet)")
    else:
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        assert sheet is not None
        sheet.append(["id", "comment"])
        for i, t in ROWS:
            sheet.append([i, t or None])
        workbook.save(path)
    return path


@pytest.fixture(scope="module")
def model(zh_model: SentimentModel, en_model: SentimentModel) -> SentimentModel:
    return zh_model.merged_with(en_model)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet", ".xlsx"])
def test_score_file_scores_every_row(suffix: str, tmp_path: Path, model: SentimentModel) -> None:
    path = _write(tmp_path / f"comments{suffix}")
    rows = score_file(path, column="comment", model=model)
    assert [r.row for r in rows] == [1, 2, 3]
    assert [r.text for r in rows] == [t for _, t in ROWS]
    assert [r.text_language for r in rows] == ["zh", "en", "en"]
    assert rows[0].label == "negative"
    assert rows[1].label == "neutral"
    assert rows[2].positive_probability > 0.5
    assert set(rows[0].to_dict()) == {"row", "text", "text_language", "positive_probability", "label"}


def test_a_missing_column_names_the_file_and_the_column(tmp_path: Path, model: SentimentModel) -> None:
    path = _write(tmp_path / "comments.csv")
    with pytest.raises(TextInputError, match="'review'") as error:
        score_file(path, column="review", model=model)
    assert error.value.location == f"{path}:review"
    assert error.value.hint is not None and "comment" in error.value.hint


def test_a_missing_file_and_an_unknown_type_are_errors(tmp_path: Path, model: SentimentModel) -> None:
    with pytest.raises(TextInputError, match="not found"):
        score_file(tmp_path / "absent.csv", column="comment", model=model)
    other = tmp_path / "comments.docx"
    other.write_bytes(b"")
    with pytest.raises(TextInputError, match="unsupported"):
        score_file(other, column="comment", model=model)


def test_a_labelled_file_reads_labels_in_either_language(tmp_path: Path) -> None:
    path = tmp_path / "labelled.csv"
    path.write_text("text,label\n很好,正面\n很差,负面\nok,\n不错,positive\n,0\n太慢,0\n", encoding="utf-8")
    corpus = read_labelled_file(path, text_column="text", label_column="label")
    assert corpus.texts == ("很好", "很差", "不错", "太慢")
    assert corpus.labels == (1, 0, 1, 0)


def test_an_unknown_label_is_an_error_with_its_row(tmp_path: Path) -> None:
    path = tmp_path / "labelled.csv"
    path.write_text("text,label\n很好,1\n一般,maybe\n", encoding="utf-8")
    with pytest.raises(TextInputError, match="maybe") as error:
        read_labelled_file(path, text_column="text", label_column="label")
    assert error.value.location == f"{path}:label[2]"
