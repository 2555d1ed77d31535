from __future__ import annotations

import random

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huaxiang.ingest.kinds import ValueContext, kind_named

from .conftest import FastPath

CTX = ValueContext()
PHONE = kind_named("phone")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("138 1234 5678", "+8613812345678"),
        ("+86-138-1234-5678", "+8613812345678"),
        ("0086 13812345678", "+8613812345678"),
        ("１３８１２３４５６７８", "+8613812345678"),
        ("(010) 6552 9988", "+861065529988"),
        ("021-6234 5678", "+862162345678"),
        ("+1 650-253-0000", "+16502530000"),
    ],
)
def test_accepted_numbers_become_e164(raw: str, expected: str) -> None:
    assert PHONE.normalise(raw, CTX).value == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("12345678901", "got 11 digits starting 12"),
        ("1381234567", "got 10 digits starting 13"),
        ("1-800-FLOWERS", "digits, spaces"),
        ("138-1234-5678 abc", "digits, spaces"),
        ("010-65529988 ext. 123", "extension"),
        ("010-65529988转123", "extension"),
        ("95588", "mobile or landline"),
    ],
)
def test_rejected_numbers_say_what_was_expected(raw: str, fragment: str) -> None:
    result = PHONE.normalise(raw, CTX)
    assert result.value is None
    assert result.error is not None
    assert fragment in result.error


def test_default_region_reads_national_numbers() -> None:
    hong_kong = ValueContext(region="HK")
    assert PHONE.normalise("9123 4567", hong_kong).value == "+85291234567"
    assert PHONE.sql_fast_path("v", hong_kong) is None


def _valid_mobile(rng: random.Random) -> str:
    while True:
        digits = "1" + str(rng.randint(3, 9)) + "".join(rng.choices("0123456789", k=9))
        if phonenumbers.is_valid_number(phonenumbers.parse(digits, "CN")):
            return digits


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32), layout=st.integers(0, 7))
def test_formatting_variants_of_one_number_agree(seed: int, layout: int) -> None:
    digits = _valid_mobile(random.Random(seed))
    a, b, c = digits[:3], digits[3:7], digits[7:]
    variants = [
        digits, f"{a} {b} {c}", f"{a}-{b}-{c}", f"+86 {digits}", f"+86-{a}-{b}-{c}", f"0086{digits}",
        f"(+86) {a} {b} {c}", digits.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    ]  # fmt: skip
    expected = "+86" + digits
    assert PHONE.normalise(variants[layout], CTX).value == expected
    assert PHONE.normalise(expected, CTX).value == expected  # idempotent


def test_fast_path_is_narrower_than_the_plain_mobile_pattern(fast_path: FastPath) -> None:
    # 60 random numbers for every prefix 130-199: the SQL never disagrees with phonenumbers, and some
    # numbers matching ^1[3-9][0-9]{9}$ are refused by phonenumbers (140…, 154…, 179…): the SQL leaves them
    # NULL, so the plain pattern would have been wrong.
    rng = random.Random(20240301)
    values = [
        f"1{prefix:02d}" + "".join(rng.choices("0123456789", k=8))
        for prefix in range(30, 100)
        for _ in range(200)
    ]
    run = fast_path("phone", values)
    assert run.disagreements == []
    assert run.hits > len(values) // 2
    refused = [(raw, sql) for raw, sql, python in run.rows if python is None]
    assert len(refused) > 300
    assert all(sql is None for _, sql in refused)


def test_fast_path_reads_numbers_written_after_the_country_code(fast_path: FastPath) -> None:
    rng = random.Random(20241206)
    numbers = [_valid_mobile(rng) for _ in range(200)]
    written = [prefix + digits for digits in numbers for prefix in ("+86", "+86 ", "+86-")]
    run = fast_path("phone", written)
    assert run.hits == len(written)
    assert run.disagreements == []
    # other prefixes and separators stay with phonenumbers
    assert fast_path("phone", ["+86  " + numbers[0], "+8613" + numbers[1], "86 " + numbers[2]]).hits == 0


@settings(max_examples=50, deadline=None)
@given(values=st.lists(st.text(alphabet="0123456789", min_size=11, max_size=11), min_size=1, max_size=60))
def test_fast_path_agrees_on_generated_eleven_digit_strings(fast_path: FastPath, values: list[str]) -> None:
    assert fast_path("phone", values).disagreements == []


@settings(max_examples=30, deadline=None)
@given(values=st.lists(st.text(alphabet="0123456789+-() ", min_size=1, max_size=16), min_size=1, max_size=40))
def test_fast_path_agrees_on_arbitrary_phone_like_text(fast_path: FastPath, values: list[str]) -> None:
    assert fast_path("phone", values).disagreements == []
