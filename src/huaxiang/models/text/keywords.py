"""Keywords of each text and topics of a batch, for Chinese (jieba) and English (scikit-learn).

Chinese keywords are jieba's TF-IDF extraction, whose IDF table comes from a large general corpus,
so a single review gets sensible keywords; jionlp's stop-word list (installed with the project) drops
function words. English has no such table, so English keywords are TF-IDF over the batch given, with
scikit-learn's English stop words. Topics are NMF over the same TF-IDF, which gives each topic a short,
readable list of words without a probabilistic model to tune.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import jieba.analyse
import numpy as np
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from huaxiang.models.text.corpus import package_file
from huaxiang.models.text.features import zh_words
from huaxiang.models.text.language import detect_language

_WORD = re.compile(r"\w")
_NUMBER = re.compile(r"^[\d.,%]+$")


@dataclass(frozen=True, slots=True)
class Topic:
    """One topic of a batch: its top words, best first, and how many texts it leads."""

    words: tuple[str, ...]
    document_count: int


def keywords(texts: Sequence[str], *, top_k: int = 10) -> list[list[str]]:
    """The ``top_k`` keywords of each text, best first, in the order of ``texts``."""
    result: list[list[str]] = [[] for _ in texts]
    english: list[int] = []
    for i, text in enumerate(texts):
        if detect_language(text) == "zh":
            result[i] = _chinese_keywords(text, top_k)
        elif text.strip():
            english.append(i)
    if english:
        for i, words in zip(english, _english_keywords([texts[i] for i in english], top_k), strict=True):
            result[i] = words
    return result


def topics(texts: Sequence[str], *, n_topics: int = 5, top_words: int = 8) -> list[Topic]:
    """Up to ``n_topics`` topics of a batch of texts (either language), largest first."""
    documents = [_content_words(text) for text in texts]
    if sum(1 for d in documents if d) < 2:
        return []
    vectorizer = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=1)
    matrix = vectorizer.fit_transform(documents)
    components = min(n_topics, matrix.shape[0], matrix.shape[1])
    factorisation = NMF(n_components=components, init="nndsvda", random_state=0, max_iter=500)
    weights = factorisation.fit_transform(matrix)
    terms = vectorizer.get_feature_names_out()
    leaders = np.bincount(weights.argmax(axis=1)[weights.max(axis=1) > 0], minlength=components)
    found = [
        Topic(tuple(str(terms[j]) for j in row.argsort()[::-1][:top_words] if row[j] > 0), int(leaders[k]))
        for k, row in enumerate(factorisation.components_)
    ]
    return sorted((t for t in found if t.words), key=lambda t: -t.document_count)


@cache
def _zh_stop_words() -> frozenset[str]:
    path = package_file("jionlp", "dictionary", "stopwords.txt")
    return frozenset(line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


@cache
def _extractor() -> jieba.analyse.TFIDF:
    extractor = jieba.analyse.TFIDF()
    extractor.stop_words |= _zh_stop_words()
    return extractor


def _chinese_keywords(text: str, top_k: int) -> list[str]:
    candidates = _extractor().extract_tags(text, topK=top_k * 2)
    return [str(w) for w in candidates if not _NUMBER.match(w)][:top_k]


def _english_keywords(texts: Sequence[str], top_k: int) -> list[list[str]]:
    vectorizer = TfidfVectorizer(
        stop_words="english", sublinear_tf=True, token_pattern=r"(?u)\b[a-zA-Z][\w'-]+\b"
    )
    try:
        matrix = vectorizer.fit_transform(texts).tocsr()
    except ValueError:  # nothing but stop words in the whole batch
        return [[] for _ in texts]
    terms = vectorizer.get_feature_names_out()
    result = []
    for row in range(matrix.shape[0]):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        order = sorted(range(start, end), key=lambda k: (-matrix.data[k], terms[matrix.indices[k]]))
        result.append([str(terms[matrix.indices[k]]) for k in order[:top_k]])
    return result


def _content_words(text: str) -> list[str]:
    if detect_language(text) == "zh":
        stop = _zh_stop_words()
        return [
            w
            for w in zh_words(text)
            if len(w) > 1 and w not in stop and _WORD.search(w) and not _NUMBER.match(w)
        ]
    return [w for w in re.findall(r"[a-z][a-z'-]+", text.lower()) if w not in ENGLISH_STOP_WORDS]


def _identity(words: list[str]) -> list[str]:
    return words
