from __future__ import annotations

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from huaxiang.models.text import keywords, topics

COMPLAINT = "快递太慢了，手机屏幕有划痕，客服态度很差，申请退货一直没人处理"


def test_keywords_of_a_chinese_complaint_include_its_key_nouns() -> None:
    [found] = keywords([COMPLAINT], top_k=10)
    assert {"屏幕", "划痕", "客服", "退货"} <= set(found)
    assert not {"了", "有", "，", "一直"} & set(found)
    assert len(found) <= 10


def test_english_keywords_leave_out_stop_words_and_follow_the_input_order() -> None:
    texts = [
        "The battery died after two days and the charger is broken.",
        "",
        "快递很快",
        "Lovely screen, but the battery drains quickly.",
    ]
    found = keywords(texts, top_k=3)
    assert len(found) == 4
    assert found[1] == []
    assert "快递" in found[2]
    assert all(len(words) <= 3 for words in found)
    assert not (set(found[0]) | set(found[3])) & ENGLISH_STOP_WORDS
    assert {"died", "broken", "charger"} & set(found[0])


def test_topics_separate_delivery_from_screen_complaints() -> None:
    texts = [
        "送餐太慢，外卖凉了",
        "外卖送餐很慢，饭菜都凉了",
        "送餐慢，外卖洒了",
        "手机屏幕有划痕",
        "屏幕碎了，手机要退货",
        "手机屏幕坏点，申请退货",
    ]
    found = topics(texts, n_topics=2, top_words=3)
    assert len(found) == 2
    assert sum(t.document_count for t in found) == len(texts)
    groups = [set(t.words) for t in found]
    assert any("送餐" in g or "外卖" in g for g in groups)
    assert any("屏幕" in g or "手机" in g for g in groups)
    assert not any(("送餐" in g or "外卖" in g) and ("屏幕" in g or "手机" in g) for g in groups)


def test_topics_of_too_few_texts_are_empty() -> None:
    assert topics(["只有一条"]) == []
