from __future__ import annotations

import pytest

from huaxiang.models.text import detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("送餐太慢了，饭都凉了", "zh"),
        ("The battery died after two days.", "en"),
        ("iPhone 屏幕碎了", "zh"),
        ("服務態度很好", "zh"),
        ("great 好", "zh"),
        ("not good at all, 差", "en"),
        ("12345 !!!", "en"),
        ("", "en"),
    ],
)
def test_language_follows_the_script(text: str, expected: str) -> None:
    assert detect_language(text) == expected
