"""Text commands: sentiment of any file's text column, and a sentiment model trained on your own labels."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from huaxiang.cli.common import JsonOption, console, friendly_errors, print_json
from huaxiang.i18n import bilingual, current_language

text_app = typer.Typer(
    help="Sentiment and keywords of Chinese and English text. 文本情感与关键词。", no_args_is_help=True
)

ModelOption = Annotated[
    Path | None,
    typer.Option("--model", help="A model saved by `huaxiang text train` (merged with the default)."),
]


@text_app.command("sentiment")
@friendly_errors
def sentiment(
    file: Annotated[Path, typer.Argument(help="CSV, JSON Lines, Parquet or xlsx file.")],
    column: Annotated[str, typer.Option(help="The column holding the text.")],
    model: ModelOption = None,
    as_json: JsonOption = False,
) -> None:
    """Score every row's text: positive probability and label, language detected per row. 情感打分。"""
    from huaxiang.models.text import SentimentModel, default_sentiment_model, score_file

    chosen = default_sentiment_model()
    if model is not None:
        chosen = chosen.merged_with(SentimentModel.load(model))
    rows = score_file(file, column=column, model=chosen)
    if as_json:
        print_json([row.to_dict() for row in rows])
        return
    language = current_language()
    table = Table(title=bilingual("情感", "Sentiment").text(language), title_justify="left")
    for header in (
        ("行", "Row"),
        ("语言", "Language"),
        ("正面概率", "P(positive)"),
        ("标签", "Label"),
        ("文本", "Text"),
    ):
        table.add_column(bilingual(*header).text(language))
    for row in rows:
        table.add_row(
            str(row.row), row.text_language, f"{row.positive_probability:.3f}", row.label, row.text[:60]
        )
    console.print(table)


@text_app.command("train")
@friendly_errors
def train(
    file: Annotated[Path, typer.Argument(help="Labelled texts: CSV, JSON Lines, Parquet or xlsx.")],
    text_column: Annotated[str, typer.Option(help="The column holding the text.")],
    label_column: Annotated[str, typer.Option(help="Labels: 1/0, positive/negative, 正面/负面, 好评/差评 …")],
    out: Annotated[Path, typer.Option(help="Where to save the model (gzipped JSON, no code).")],
) -> None:
    """Train a sentiment model on your own labelled texts. 用自有标注训练情感模型。"""
    from huaxiang.models.text import read_labelled_file, train_sentiment

    labelled = read_labelled_file(file, text_column=text_column, label_column=label_column)
    model = train_sentiment(labelled.texts, labelled.labels, source=str(file))
    model.save(out)
    console.print(f"[green]✓[/] {len(labelled.texts):,} texts → {out}")
