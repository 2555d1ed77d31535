"""Turn texts into the sparse features of the sentiment models: TF-IDF n-grams plus a lexicon signal.

Chinese: character 1–3-grams (robust to segmentation errors and new words) and jieba word uni- and
bigrams, plus a score from jionlp's sentiment lexicon with negation flipped. English: word uni- and
bigrams with negation marked, character 2–5-grams within words (spelling variants, word stems), plus
VADER's scores. The lexicon part carries polarity of words that the training reviews
never used, which is what lifts accuracy on a domain the model was not trained on (measured in
``benchmarks/text_sentiment.py``).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

import jieba
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from huaxiang.models.text.corpus import package_file
from huaxiang.models.text.language import TextLanguage

jieba.setLogLevel(60)

Analyzer = Literal["zh_chars", "zh_words", "en_words", "en_chars"]
ANALYZERS: dict[TextLanguage, tuple[Analyzer, ...]] = {
    "zh": ("zh_chars", "zh_words"),
    "en": ("en_words", "en_chars"),
}
LEXICON_COLUMNS: dict[TextLanguage, int] = {"zh": 3, "en": 4}
MAX_TERMS = 200_000

# Words that flip the polarity of the next two sentiment words of a clause. Written out here because
# jionlp's negative_words.txt also holds words such as 不久 and 不了 that negate nothing.
_NEGATORS = frozenset(
    {
        *("不", "没", "没有", "别", "无", "未", "非", "不是", "不太", "不够", "不会", "不能", "不要"),
        *("没什么", "毫无", "并非", "不怎么", "从不", "绝不", "不算", "没法"),
    }
)
_CLAUSE_END = re.compile(r"^[，。！？,.!?、；;~…\s]+$")
# English words after which the next three words are marked ``not_``; words ending in n't count too.
_EN_NEGATORS = frozenset({"not", "no", "never", "cannot", "without", "nothing", "hardly", "nor", "neither"})
_EN_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[.,!?;:]")


@dataclass(frozen=True, slots=True)
class TermBlock:
    """One fitted TF-IDF block: the analyser that made it, its terms and their idf weights."""

    analyzer: Analyzer
    terms: tuple[str, ...]
    idf: NDArray[np.float64]


def fit_blocks(texts: Sequence[str], language: TextLanguage) -> tuple[list[TermBlock], sp.csr_matrix]:
    """Fit the TF-IDF blocks of a language on training texts; also return their feature matrix."""
    words = _words(texts, language)
    blocks: list[TermBlock] = []
    matrices: list[sp.csr_matrix] = []
    for analyzer in ANALYZERS[language]:
        vectorizer = _vectorizer(analyzer, vocabulary=None)
        matrices.append(vectorizer.fit_transform(words if analyzer == "zh_words" else texts))
        vocabulary: dict[str, int] = vectorizer.vocabulary_
        terms = sorted(vocabulary, key=vocabulary.__getitem__)
        blocks.append(TermBlock(analyzer, tuple(terms), np.asarray(vectorizer.idf_, dtype=np.float64)))
    matrices.append(_lexicon_matrix(texts, words, language))
    return blocks, sp.hstack(matrices, format="csr")


def transform(texts: Sequence[str], language: TextLanguage, blocks: Sequence[TermBlock]) -> sp.csr_matrix:
    """The feature matrix of texts under fitted blocks, lexicon columns last."""
    words = _words(texts, language)
    matrices = [
        _fitted_vectorizer(block).transform(words if block.analyzer == "zh_words" else texts)
        for block in blocks
    ]
    matrices.append(_lexicon_matrix(texts, words, language))
    return sp.hstack(matrices, format="csr")


def zh_words(text: str) -> list[str]:
    """jieba's words of a lower-cased text, whitespace dropped."""
    return [word for word in jieba.lcut(text.lower()) if word.strip()]


def _words(texts: Sequence[str], language: TextLanguage) -> list[list[str]]:
    """Segment Chinese once per text, shared by the word block and the lexicon."""
    return [zh_words(text) for text in texts] if language == "zh" else []


def _lexicon_matrix(
    texts: Sequence[str], words: Sequence[list[str]], language: TextLanguage
) -> sp.csr_matrix:
    """A few dense lexicon columns per text: jionlp's lexicon for Chinese, VADER for English."""
    rows = [_zh_lexicon_row(w) for w in words] if language == "zh" else [_vader_row(text) for text in texts]
    return sp.csr_matrix(np.asarray(rows, dtype=np.float64).reshape(len(texts), LEXICON_COLUMNS[language]))


def _zh_word_ngrams(words: list[str]) -> list[str]:
    return words + [f"{a}_{b}" for a, b in itertools.pairwise(words)]


def _en_word_ngrams(text: str) -> list[str]:
    """English words with the three after a negation marked (``not good`` → ``not not_good``), and bigrams."""
    words: list[str] = []
    negated = 0
    for token in _EN_TOKEN.findall(text.lower()):
        if token in ".,!?;:":
            negated = 0
        elif token in _EN_NEGATORS or token.endswith("n't"):
            negated = 3
            words.append(token)
        else:
            words.append(f"not_{token}" if negated else token)
            negated = max(negated - 1, 0)
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


def _vectorizer(analyzer: Analyzer, vocabulary: dict[str, int] | None) -> TfidfVectorizer:
    common = {"sublinear_tf": True, "vocabulary": vocabulary, "dtype": np.float64}
    limits = {} if vocabulary is not None else {"min_df": 2, "max_features": MAX_TERMS}
    if analyzer == "zh_chars":
        return TfidfVectorizer(analyzer="char", ngram_range=(1, 3), **common, **limits)
    if analyzer == "zh_words":
        word_analyzer: Callable[[list[str]], list[str]] = _zh_word_ngrams
        return TfidfVectorizer(analyzer=word_analyzer, **common, **limits)
    if analyzer == "en_chars":
        return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), **common, **limits)
    english_analyzer: Callable[[str], list[str]] = _en_word_ngrams
    return TfidfVectorizer(analyzer=english_analyzer, **common, **limits)


def _fitted_vectorizer(block: TermBlock) -> TfidfVectorizer:
    vectorizer = _vectorizer(block.analyzer, vocabulary={term: i for i, term in enumerate(block.terms)})
    vectorizer.idf_ = block.idf
    return vectorizer


@cache
def _zh_lexicon() -> dict[str, float]:
    path = package_file("jionlp", "dictionary", "sentiment_words.txt")
    lexicon: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        word, _, weight = line.partition("\t")
        if word and weight:
            lexicon[word] = float(weight)
    return lexicon


def _zh_lexicon_row(words: list[str]) -> list[float]:
    lexicon = _zh_lexicon()
    positive = negative = 0.0
    negated = 0
    for word in words:
        if _CLAUSE_END.match(word):
            negated = 0
            continue
        if word in _NEGATORS:
            negated = 2
            continue
        weight = lexicon.get(word, 0.0)
        if negated:
            weight, negated = -weight, negated - 1
        if weight > 0:
            positive += weight
        else:
            negative -= weight
    return [math.log1p(positive), math.log1p(negative), math.log1p(positive) - math.log1p(negative)]


@cache
def _vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def _vader_row(text: str) -> list[float]:
    scores = _vader().polarity_scores(text)
    return [3.0 * scores["compound"], 3.0 * scores["pos"], 3.0 * scores["neg"], 3.0 * scores["neu"]]
