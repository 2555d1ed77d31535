"""Deliberately wrong values planted into the demo sources, each the kind real systems produce.

Typos swap a character for a homophone or a look-alike from a short hand-made table: the
pinyin tables in pypinyin would offer thousands of rare homophones nobody actually types.
"""

from __future__ import annotations

import datetime as dt
import random

from huaxiang.demo.timeline import local_seconds

JUNK_PHONES = ("00000000000", "11111111111", "12345678901")

# character → characters a clerk mistypes it as (同音字 or 形近字)
_CONFUSABLE: dict[str, str] = {
    "伟": "玮韦",
    "娜": "那",
    "静": "晶婧",
    "丽": "莉俪",
    "军": "君",
    "勇": "永",
    "杰": "洁",
    "涛": "滔",
    "明": "铭",
    "华": "桦",
    "芳": "方",
    "敏": "民",
    "磊": "蕾",
    "强": "墙",
    "秀": "琇",
    "英": "瑛",
    "平": "萍",
    "刚": "钢",
    "辉": "晖",
    "玲": "铃",
    "燕": "艳",
    "霞": "侠",
    "鹏": "朋",
    "超": "潮",
    "波": "博",
    "婷": "亭",
    "雪": "雷",
    "峰": "锋",
    "建": "健",
    "斌": "彬",
    "红": "虹",
    "梅": "每",
    "兰": "岚",
    "晨": "辰",
    "宇": "羽",
    "浩": "皓",
    "洋": "阳",
    "欣": "新",
    "佳": "家",
    "慧": "惠",
    "颖": "影",
    "琳": "林",
    "倩": "茜",
    "鑫": "欣",
    "凯": "恺",
    "俊": "骏",
    "志": "智",
    "张": "章",
    "王": "汪",
    "李": "里",
    "刘": "柳",
    "杨": "扬",
    "黄": "皇",
    "吴": "伍",
    "徐": "许",
    "孙": "荪",
    "胡": "湖",
    "朱": "诸",
    "林": "琳",
    "何": "和",
    "郭": "国",
    "陈": "程",
    "周": "舟",
    "赵": "肖",
    "马": "玛",
    "罗": "萝",
    "梁": "粱",
    "宋": "送",
    "郑": "正",
    "谢": "射",
    "韩": "寒",
}


def can_typo(name: str) -> bool:
    return any(ch in _CONFUSABLE for ch in name)


def digits(value: object) -> str:
    """The digits of a phone as written (``+86 138 1234 5678`` → ``8613812345678``)."""
    return "".join(ch for ch in str(value) if ch.isdigit())


def typo(rng: random.Random, name: str) -> str | None:
    """The name with one character mistyped, or None when no character has a known confusion."""
    positions = [i for i, ch in enumerate(name) if ch in _CONFUSABLE]
    if not positions:
        return None
    i = rng.choice(positions)
    return name[:i] + rng.choice(_CONFUSABLE[name[i]]) + name[i + 1 :]


def invalid_phone(rng: random.Random, written: object) -> str:
    """Too short, too long, a letter for a digit, or a junk placeholder."""
    phone = digits(written)[-11:]
    roll = rng.random()
    if roll < 0.3:
        return phone[:-1]
    if roll < 0.45:
        return phone + str(rng.randrange(10))
    if roll < 0.55:
        return phone[:5] + "l" + phone[6:]
    if roll < 0.65:
        return "10" + phone[2:]
    return rng.choice(JUNK_PHONES)


def invalid_email(rng: random.Random, email: object) -> str:
    """A malformed address: no domain, no @, a doubled @, a space, or no top-level domain."""
    local, _, domain = str(email or "kehu@163.com").partition("@")
    return rng.choice(
        (
            f"{local}@",
            f"{local}{domain}",
            f"{local}@@{domain}",
            f"{local} @{domain}",
            f"{local}@{domain.split('.')[0]}",
            "无",
        )
    )


def invalid_id_card(rng: random.Random, written: object) -> str:
    """The ID number with a wrong check digit (a one-digit slip the checksum exists to catch)."""
    number = str(written)
    wrong = [c for c in "0123456789X" if c != number[-1].upper()]
    return number[:-1] + rng.choice(wrong)


def unparseable_time(rng: random.Random) -> str:
    return rng.choice(
        ("2025-13-45 25:61:00", "未知", "0000-00-00 00:00:00", "##########", "2025/02/30 10:00", "昨天下午")
    )


def future_time(rng: random.Random) -> int:
    """A clock-skew timestamp, years after the data's reference date so no clock can accept it."""
    if rng.random() < 0.2:
        return local_seconds(dt.datetime(2099, 12, 31, 23, 59, 59))
    return local_seconds(
        dt.datetime(
            rng.randint(2028, 2031),
            rng.randint(1, 12),
            rng.randint(1, 28),
            rng.randrange(24),
            rng.randrange(60),
        )
    )
