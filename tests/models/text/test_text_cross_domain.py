"""English sentiment on a product the model never saw, against VADER on the same sentences.

The Amazon sentences cover five products; review numbers 1–100 are about one DVD player
(see ``benchmarks/text_sentiment.py``). Training on the other products and testing on the DVD player
measures what the issue asks for, generalisation across domains, in one small fit.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from huaxiang.models.text import train_sentiment

LAST_DVD_REVIEW = 100


def test_trained_on_other_products_it_beats_vader_on_an_unseen_product(shared_data: Path) -> None:
    path = shared_data / "en-reviews" / "amazon_snippets_dev.csv"
    rows = duckdb.sql(f"SELECT text, label, review FROM read_csv('{path}')").fetchall()
    train = [r for r in rows if int(r[2]) > LAST_DVD_REVIEW]
    test = [r for r in rows if int(r[2]) <= LAST_DVD_REVIEW]
    assert train and test
    model = train_sentiment([r[0] for r in train], [int(r[1]) for r in train], language="en")
    truth = np.array([bool(int(r[1])) for r in test])
    ours = np.array([s.positive_probability >= 0.5 for s in model.score([r[0] for r in test])])
    vader = SentimentIntensityAnalyzer()
    baseline = np.array([vader.polarity_scores(r[0])["compound"] >= 0 for r in test])
    assert np.mean(ours == truth) > np.mean(baseline == truth) + 0.05
