"""Human-rated English sentences from movie reviews, tweets and newspaper editorials (VADER's test sets).

The source distribution of ``vaderSentiment`` 3.3.2 (PyPI, MIT) ships
``additional_resources/hutto_ICWSM_2014.tar.gz``: the sentences on which Hutto and Gilbert (ICWSM 2014)
evaluated VADER, each rated by about twenty people from −4 to +4. They are the only labelled English
sentences any installable package ships, so the shipped English model is trained on them (by
``benchmarks/text_sentiment.py --write-english-model``; nothing here runs at scoring time).

The same archive also holds the Amazon review sentences whose larger part the project keeps apart for
evaluation, so this reader opens only the members named in ``DOMAINS`` and never lists the others'
contents; the sdist is checked against its published SHA-256 first, so a different file fails loudly
instead of training a different model.
"""

from __future__ import annotations

import hashlib
import html
import io
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from huaxiang.models.text.errors import TextInputError

Domain = Literal["movies", "tweets", "editorials"]
DOMAINS: dict[Domain, str] = {
    "movies": "hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt",
    "tweets": "hutto_ICWSM_2014/tweets_GroundTruth.txt",
    "editorials": "hutto_ICWSM_2014/nytEditorialSnippets_GroundTruth.txt",
}
"""The only members read. ``amazonReviewSnippets_GroundTruth.txt`` is deliberately absent."""
VADER_SDIST = "vaderSentiment-3.3.2.tar.gz"
VADER_SDIST_SHA256 = "5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9"
_INNER_ARCHIVE = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"


@dataclass(frozen=True, slots=True)
class RatedSentence:
    """One sentence with its mean human rating (−4 … +4).

    ``document`` groups sentences of one source text (an editorial's number; for movie snippets and
    tweets, which stand alone, the sentence's own id), so a validation split keeps a text on one side.
    """

    domain: Domain
    document: str
    rating: float
    text: str


def read_rated_sentences(
    sdist: Path,
    domains: Iterable[Domain] = tuple(DOMAINS),
    *,
    expected_sha256: str = VADER_SDIST_SHA256,
) -> list[RatedSentence]:
    """The rated sentences of ``domains`` from the vaderSentiment 3.3.2 sdist at ``sdist``, in file order.

    The file must hash to ``expected_sha256`` (the published sdist's unless a test builds its own).
    """
    payload = _verified_bytes(sdist, expected_sha256)
    try:
        with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as outer:
            inner = outer.extractfile(_INNER_ARCHIVE)
            if inner is None:
                raise KeyError(_INNER_ARCHIVE)
            archive = inner.read()
        sentences: list[RatedSentence] = []
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as rated:
            for domain in domains:
                member = rated.extractfile(DOMAINS[domain])
                if member is None:
                    raise KeyError(DOMAINS[domain])
                location = f"{sdist}!{_INNER_ARCHIVE}!{DOMAINS[domain]}"
                sentences += _parse(domain, member.read().decode("utf-8").splitlines(), location)
    except (KeyError, tarfile.TarError, UnicodeDecodeError) as error:
        raise TextInputError(
            f"the vaderSentiment sdist lacks or garbles {error} / 源码包缺少或损坏所需文件",
            location=str(sdist),
            hint="download it again: pip download vaderSentiment==3.3.2 --no-binary :all: --no-deps",
        ) from error
    return sentences


def _verified_bytes(sdist: Path, expected_sha256: str) -> bytes:
    try:
        payload = sdist.read_bytes()
    except OSError as error:
        raise TextInputError(
            f"cannot read the vaderSentiment sdist / 无法读取源码包: {error}",
            location=str(sdist),
            hint="pip download vaderSentiment==3.3.2 --no-binary :all: --no-deps -d DIR",
        ) from error
    digest = hashlib.sha256(payload).hexdigest()
    if digest != expected_sha256:
        raise TextInputError(
            f"sha256 {digest} is not that of {VADER_SDIST} / 源码包校验和不符",
            location=str(sdist),
            hint=f"use the PyPI file {VADER_SDIST} (sha256 {expected_sha256})",
        )
    return payload


def _parse(domain: Domain, lines: Sequence[str], location: str) -> list[RatedSentence]:
    """``id<TAB>rating<TAB>text`` lines; HTML entities in tweets (``&amp;``) are unescaped."""
    sentences = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = line.split("\t", 2)
        try:
            identifier, rating, text = parts[0], float(parts[1]), parts[2]
        except (IndexError, ValueError) as error:
            raise TextInputError(
                f"expected id<TAB>rating<TAB>text / 格式应为 编号<TAB>评分<TAB>文本: {line[:60]!r}",
                location=f"{location}:{number}",
            ) from error
        document = identifier.partition("_")[0] if domain == "editorials" else identifier
        sentences.append(RatedSentence(domain, document, rating, html.unescape(text).strip()))
    return sentences
