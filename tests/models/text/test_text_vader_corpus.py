"""The reader of VADER's rated sentences: allowed members only, checked archive, parsed ratings.

The real sdist is downloaded only by the training recipe, so these tests build an archive of the same
layout; its Amazon member is not parseable, so reading it by mistake would fail the test.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from huaxiang.models.text import TextInputError
from huaxiang.models.text.vader_corpus import read_rated_sentences

MEMBERS = {
    "hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt": "1\t2.5\tA gorgeous film.\n2\t-1.2\tToo tepid.\n",
    "hutto_ICWSM_2014/tweets_GroundTruth.txt": "7\t1.4\tYay &amp; thanks!\n8\t0\tExecute like lightning\n",
    "hutto_ICWSM_2014/nytEditorialSnippets_GroundTruth.txt": "3_1\t0.4\tEvents include sprinting.\n3_2\t-2\tA disgrace.\n",
    "hutto_ICWSM_2014/amazonReviewSnippets_GroundTruth.txt": "not a rated sentence file\n",
}


def _tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, payload in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
    return buffer.getvalue()


@pytest.fixture
def sdist(tmp_path: Path) -> tuple[Path, str]:
    inner = _tar({name: text.encode() for name, text in MEMBERS.items()})
    outer = _tar({"vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz": inner})
    path = tmp_path / "vaderSentiment-3.3.2.tar.gz"
    path.write_bytes(outer)
    return path, hashlib.sha256(outer).hexdigest()


def test_reads_the_three_other_domains_and_never_the_amazon_sentences(sdist: tuple[Path, str]) -> None:
    path, digest = sdist
    sentences = read_rated_sentences(path, expected_sha256=digest)
    assert [(s.domain, s.rating, s.text) for s in sentences] == [
        ("movies", 2.5, "A gorgeous film."),
        ("movies", -1.2, "Too tepid."),
        ("tweets", 1.4, "Yay & thanks!"),
        ("tweets", 0.0, "Execute like lightning"),
        ("editorials", 0.4, "Events include sprinting."),
        ("editorials", -2.0, "A disgrace."),
    ]
    assert [s.document for s in sentences if s.domain == "editorials"] == ["3", "3"]
    assert [s.document for s in sentences if s.domain == "movies"] == ["1", "2"]
    assert {s.domain for s in read_rated_sentences(path, ["tweets"], expected_sha256=digest)} == {"tweets"}


def test_an_archive_with_another_checksum_is_refused_with_its_path(sdist: tuple[Path, str]) -> None:
    path, _ = sdist
    with pytest.raises(TextInputError, match="sha256") as error:
        read_rated_sentences(path)
    assert error.value.location == str(path)


def test_a_malformed_line_names_the_member_and_line(tmp_path: Path) -> None:
    inner = _tar({"hutto_ICWSM_2014/tweets_GroundTruth.txt": b"1\t1.0\tfine\n2\tgood\tno rating\n"})
    outer = _tar({"vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz": inner})
    path = tmp_path / "sdist.tar.gz"
    path.write_bytes(outer)
    with pytest.raises(TextInputError, match="rating") as error:
        read_rated_sentences(path, ["tweets"], expected_sha256=hashlib.sha256(outer).hexdigest())
    assert str(error.value.location).endswith("tweets_GroundTruth.txt:2")
    with pytest.raises(TextInputError, match="lacks"):
        read_rated_sentences(path, ["movies"], expected_sha256=hashlib.sha256(outer).hexdigest())
