from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest

from huaxiang.models.text import SentimentModel, TextInputError, train_sentiment
from huaxiang.models.text.sentiment import train_language_model

from .conftest import ZH_SAMPLE_SEED, ZH_SAMPLE_SIZE, sample_reviews

ZH_POSITIVE = ["质量很好，物流也快，非常满意，下次还会买", "味道很棒，服务热情，强烈推荐"]
ZH_NEGATIVE = ["质量太差了，用了两天就坏了，非常失望", "客服态度恶劣，退货一直没人处理，再也不买了"]
EN_POSITIVE = [
    "I love this player, the picture is excellent and it works great.",
    "Wonderful camera, highly recommended!",
]
EN_NEGATIVE = [
    "Terrible product, it broke after a week and support never answered.",
    "Do not buy this, a waste of money.",
]


def test_scores_have_one_entry_per_text_with_probability_and_label(zh_model: SentimentModel) -> None:
    texts = [*ZH_POSITIVE, *ZH_NEGATIVE, "还行吧", "   "]
    scores = zh_model.score(texts)
    assert len(scores) == len(texts)
    assert [s.text_language for s in scores[:-1]] == ["zh"] * (len(texts) - 1)
    for score in scores:
        assert 0.0 <= score.positive_probability <= 1.0
        expected = (
            "positive"
            if score.positive_probability >= 0.6
            else "negative"
            if score.positive_probability <= 0.4
            else "neutral"
        )
        assert score.label == expected
    assert scores[-1].positive_probability == 0.5
    assert scores[-1].label == "neutral"


def test_clear_chinese_reviews_get_their_sentiment(zh_model: SentimentModel) -> None:
    assert [s.label for s in zh_model.score(ZH_POSITIVE)] == ["positive"] * len(ZH_POSITIVE)
    assert [s.label for s in zh_model.score(ZH_NEGATIVE)] == ["negative"] * len(ZH_NEGATIVE)


def test_clear_english_reviews_get_their_sentiment(en_model: SentimentModel) -> None:
    scores = en_model.score([*EN_POSITIVE, *EN_NEGATIVE])
    assert all(s.text_language == "en" for s in scores)
    assert [s.positive_probability > 0.5 for s in scores] == [True] * 2 + [False] * 2


def test_mixed_batches_are_routed_by_language(zh_model: SentimentModel, en_model: SentimentModel) -> None:
    both = en_model.merged_with(zh_model)
    scores = both.score([ZH_NEGATIVE[0], EN_POSITIVE[0]])
    assert [s.text_language for s in scores] == ["zh", "en"]
    assert scores[0].positive_probability < 0.5 < scores[1].positive_probability
    assert both.languages == ("en", "zh")


def test_a_model_without_the_texts_language_scores_it_with_the_part_it_has(
    zh_model: SentimentModel, caplog: pytest.LogCaptureFixture
) -> None:
    scores = zh_model.score([ZH_NEGATIVE[0], "Great value."])
    assert [s.text_language for s in scores] == ["zh", "en"]
    assert 0.0 <= scores[1].positive_probability <= 1.0
    assert "no en part" in caplog.text


def test_training_on_a_small_sample_beats_chance_on_held_out_reviews(zh_model: SentimentModel) -> None:
    held_out = sample_reviews(600, seed=ZH_SAMPLE_SEED, skip=ZH_SAMPLE_SIZE)
    assert not set(held_out.texts) & set(sample_reviews(ZH_SAMPLE_SIZE, seed=ZH_SAMPLE_SEED).texts)
    predicted = [s.positive_probability > 0.5 for s in zh_model.score(held_out.texts)]
    accuracy = np.mean(np.array(predicted) == np.array(held_out.labels, dtype=bool))
    assert accuracy > 0.75


def test_english_training_on_some_reviews_beats_chance_on_other_reviews(shared_data: Path) -> None:
    rows = duckdb.sql(
        f"SELECT text, label, review FROM read_csv('{shared_data / 'en-reviews' / 'amazon_snippets_dev.csv'}')"
    ).fetchall()
    train = [r for r in rows if int(r[2]) % 4 != 0]
    test = [r for r in rows if int(r[2]) % 4 == 0]
    model = train_sentiment([r[0] for r in train], [int(r[1]) for r in train], language="en")
    predicted = np.array([s.positive_probability > 0.5 for s in model.score([r[0] for r in test])])
    majority = max(np.mean([int(r[1]) for r in test]), 1 - np.mean([int(r[1]) for r in test]))
    assert np.mean(predicted == np.array([bool(int(r[1])) for r in test])) > majority


def test_save_and_load_give_the_same_scores(
    zh_model: SentimentModel, en_model: SentimentModel, tmp_path: Path
) -> None:
    model = zh_model.merged_with(en_model)
    texts = [*ZH_POSITIVE, *ZH_NEGATIVE, *EN_POSITIVE, *EN_NEGATIVE]
    path = tmp_path / "models" / "sentiment.json.gz"
    model.save(path)
    loaded = SentimentModel.load(path)
    assert loaded.languages == model.languages
    assert loaded.describe() == model.describe()
    before = [s.positive_probability for s in model.score(texts)]
    after = [s.positive_probability for s in loaded.score(texts)]
    assert after == pytest.approx(before, abs=1e-5)


def test_loading_something_else_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.json.gz"
    path.write_text("not a model", encoding="utf-8")
    with pytest.raises(TextInputError) as error:
        SentimentModel.load(path)
    assert error.value.location == str(path)


def test_training_needs_both_labels() -> None:
    with pytest.raises(TextInputError, match="both labels"):
        train_sentiment(["很好"] * 20, [1] * 20, language="zh")
    with pytest.raises(TextInputError, match="texts but"):
        train_sentiment(["很好", "很差"], [1])
    with pytest.raises(TextInputError, match=r"got \[2\]"):
        train_sentiment(["很好", "很差"] * 10, [1, 2] * 10, language="zh")


def test_training_without_a_language_trains_each_language_that_has_enough_labels() -> None:
    chinese = sample_reviews(300, seed=3)
    english = ["great product, works well", "awful, broke at once"] * 10
    model = train_sentiment([*chinese.texts, *english], [*chinese.labels, *[1, 0] * 10])
    assert model.languages == ("en", "zh")


def test_sample_weights_decide_between_conflicting_labels() -> None:
    clear = ["great product, works well", "awful, broke at once"] * 10
    neutral = "it arrived on tuesday"
    texts = [*clear, *[neutral] * 20]
    labels = np.array([1, 0] * 10 + [1] * 10 + [0] * 10)
    for favoured in (1, 0):
        heavy, light = (5.0, 0.2) if favoured == 1 else (0.2, 5.0)
        weights = np.array([1.0] * 20 + [heavy] * 10 + [light] * 10)
        model = train_language_model(texts, labels, "en", source="test", sample_weight=weights)
        assert (model.probabilities([neutral])[0] > 0.5) == (favoured == 1)
    with pytest.raises(TextInputError, match="weights"):
        train_language_model(texts, labels, "en", source="test", sample_weight=np.ones(3))
