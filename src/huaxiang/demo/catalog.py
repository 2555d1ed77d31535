"""The demo retailer's product catalogue: categories, SKUs and list prices.

Brand words are invented so no real trademark appears in generated data; prices end the way
Chinese retail prices do (…9.00, …9.90, …8.00).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# category → (product type, lowest list price, highest list price); "slug" names a web page.
CATEGORIES: dict[str, tuple[str, tuple[tuple[str, int, int], ...]]] = {
    "手机数码": (
        "digital",
        (
            ("蓝牙耳机", 99, 1299),
            ("智能手表", 399, 2999),
            ("充电宝", 59, 299),
            ("平板电脑", 1499, 6999),
            ("智能手机", 999, 8999),
            ("机械键盘", 199, 899),
        ),
    ),
    "家用电器": (
        "appliances",
        (
            ("空气炸锅", 199, 899),
            ("扫地机器人", 999, 4999),
            ("电饭煲", 199, 1299),
            ("吹风机", 99, 2999),
            ("净水器", 899, 3999),
            ("电动牙刷", 99, 699),
        ),
    ),
    "服饰鞋包": (
        "fashion",
        (
            ("连衣裙", 129, 899),
            ("羽绒服", 399, 2499),
            ("运动鞋", 199, 1299),
            ("双肩包", 99, 699),
            ("衬衫", 89, 499),
            ("牛仔裤", 99, 599),
        ),
    ),
    "美妆个护": (
        "beauty",
        (
            ("面霜", 89, 1299),
            ("口红", 69, 399),
            ("洗发水", 29, 199),
            ("防晒霜", 59, 299),
            ("精华液", 129, 1599),
            ("面膜", 39, 269),
        ),
    ),
    "食品生鲜": (
        "grocery",
        (
            ("坚果礼盒", 59, 299),
            ("有机大米", 39, 129),
            ("进口牛奶", 49, 149),
            ("咖啡豆", 49, 259),
            ("茶叶", 79, 899),
            ("零食大礼包", 39, 159),
        ),
    ),
    "母婴用品": (
        "baby",
        (
            ("婴儿奶粉", 199, 499),
            ("纸尿裤", 89, 259),
            ("婴儿推车", 599, 3999),
            ("儿童安全座椅", 699, 2999),
            ("奶瓶", 49, 199),
        ),
    ),
    "家居家装": (
        "home",
        (
            ("四件套", 199, 1299),
            ("乳胶枕", 99, 599),
            ("收纳箱", 29, 159),
            ("台灯", 79, 499),
            ("保温杯", 49, 299),
            ("香薰", 59, 269),
        ),
    ),
    "运动户外": (
        "outdoor",
        (
            ("瑜伽垫", 49, 299),
            ("登山包", 199, 999),
            ("跑步机", 1499, 5999),
            ("帐篷", 199, 1999),
            ("骑行头盔", 129, 699),
        ),
    ),
    "图书文具": (
        "books",
        (
            ("少儿绘本", 29, 199),
            ("钢笔", 39, 599),
            ("笔记本", 9, 69),
            ("历史读物", 39, 129),
            ("考试辅导书", 29, 99),
        ),
    ),
}

_BRANDS = ("澜庭", "禾木", "知夏", "白鹭", "简元", "暖橙", "青岚", "拾光", "云栖", "北屿", "素野", "晨曦")
_VARIANTS = ("", " Pro", " 轻享版", " 标准款", " 2代", " 升级款", " 家庭装", " Max")


@dataclass(frozen=True, slots=True)
class Sku:
    """A product on sale: identifier, display name, category, product type and list price (CNY)."""

    sku: str
    name: str
    category: str
    product: str
    price: float


def _list_price(rng: random.Random, low: int, high: int) -> float:
    raw = low + (high - low) * rng.random() ** 1.6
    if raw >= 100:
        return float(int(raw / 10) * 10 + 9)
    return rng.choice((int(raw) + 0.9, float(int(raw / 10) * 10 + 9), float(int(raw) + 0.5)))


def build_catalog(rng: random.Random) -> tuple[Sku, ...]:
    """Three to four SKUs per product type, numbered in catalogue order."""
    skus: list[Sku] = []
    for category, (_slug, products) in CATEGORIES.items():
        for product, low, high in products:
            for _ in range(rng.randint(3, 4)):
                name = f"{rng.choice(_BRANDS)}{product}{rng.choice(_VARIANTS)}"
                skus.append(
                    Sku(f"SKU{10001 + len(skus)}", name, category, product, _list_price(rng, low, high))
                )
    return tuple(skus)


def category_slug(category: str) -> str:
    return CATEGORIES[category][0]
