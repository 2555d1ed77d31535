"""Customer texts whose tone follows the writer's satisfaction: tickets, reviews, survey comments.

Sentences are assembled from hand-written fragments (an opener, two or three remarks, a closing)
so that texts vary while a sentiment model can still learn from them; nothing is taken from a
public review corpus, which keeps evaluations on those corpora honest.
"""

from __future__ import annotations

import random
from typing import Literal

Tone = Literal["positive", "neutral", "negative"]

_OPEN: dict[Tone, tuple[str, ...]] = {
    "positive": (
        "这次购物体验很好，",
        "第二次在这家买了，",
        "收到货了，",
        "用了一段时间才来评价，",
        "给家里人买的，",
        "朋友推荐来的，",
        "活动期间下的单，",
        "一直是老顾客了，",
        "",
        "总体来说，",
    ),
    "neutral": ("", "简单说一下，", "收到了，", "用了几天，", "客观评价一下，", "买来自用，"),
    "negative": (
        "非常失望，",
        "第三次反映这个问题了，",
        "实在忍不了了，",
        "说实话这次体验很差，",
        "本来很信任你们，",
        "",
        "又出问题了，",
        "作为老会员很寒心，",
        "必须说一下，",
    ),
}
_REMARK: dict[Tone, tuple[str, ...]] = {
    "positive": (
        "{p}质量很不错",
        "做工比想象中精细",
        "物流很快，隔天就到了",
        "客服态度特别耐心",
        "门店店员讲解得很清楚",
        "包装很用心，没有任何破损",
        "性价比很高",
        "和描述完全一致",
        "颜色很正，很好看",
        "用起来很顺手",
        "{p}比之前在别家买的好用",
        "售后处理得很及时",
        "会员积分抵扣很方便",
        "赠品也很实用",
        "退换货流程很顺畅",
        "价格很实惠",
    ),
    "neutral": (
        "{p}还行，中规中矩",
        "东西一般，价格还可以",
        "物流有点慢，不过东西没问题",
        "包装比较简单",
        "和图片有一点色差",
        "功能够用",
        "说明书写得不太清楚",
        "尺寸刚好",
        "客服回复速度一般",
        "没有想象中那么好，也不算差",
    ),
    "negative": (
        "{p}用了不到一周就坏了",
        "快递拖了十天才到",
        "客服一直不回复",
        "退款申请了半个月还没处理",
        "门店店员态度很差",
        "实物和图片差别很大",
        "包装破损，里面的{p}也有划痕",
        "会员积分莫名其妙被清零",
        "价格比别家贵不少",
        "发票一直没开",
        "说好的赠品没给",
        "{p}有明显的异味",
        "收到的是旧货，有使用痕迹",
        "电话打了好几次都没人接",
        "同样的问题修了两次还是不行",
        "活动规则说变就变",
    ),
}
_CLOSE: dict[Tone, tuple[str, ...]] = {
    "positive": (
        "会继续回购的。",
        "推荐给大家！",
        "五星好评。",
        "下次还来。",
        "很满意！",
        "家人也很喜欢。",
        "点赞！",
        "值得购买。",
    ),
    "neutral": ("。", "，先用着看吧。", "，还可以。", "，有待改进。", "。"),
    "negative": (
        "希望尽快给个说法。",
        "要求退款。",
        "以后不会再买了。",
        "再不处理就去12315投诉。",
        "很不满意。",
        "太让人失望了。",
        "请尽快处理！",
        "已经不想再用了。",
    ),
}
_QUESTIONS = (
    "请问{p}有没有现货？",
    "想咨询一下会员积分怎么兑换。",
    "{p}支持七天无理由退换吗？",
    "请问门店营业时间是几点到几点？",
    "我的订单什么时候发货？",
    "电子发票怎么开？",
    "会员等级怎么升级？",
    "{p}能不能送货上门安装？",
    "下单时优惠券没用上，还能补吗？",
    "{p}的保修期是多久？",
    "收货地址填错了，能改吗？",
    "请问{p}有其他颜色吗？",
)
_RETURNS = (
    "{p}尺码不合适，想换大一号。",
    "收到的{p}颜色不对，申请换货。",
    "买重了一件{p}，申请退货。",
    "{p}有质量问题，申请退货退款。",
    "{p}和我想要的型号不一样，想换一下。",
    "{p}还没拆封，申请七天无理由退货。",
)
_SURVEY: dict[Tone, tuple[str, ...]] = {
    "positive": (
        "整体满意，希望多些优惠活动。",
        "服务很好，继续保持。",
        "商品丰富，送货快。",
        "会员权益很实在。",
        "店员很专业，购物很愉快。",
        "很满意，会推荐给朋友。",
    ),
    "neutral": (
        "还可以。",
        "一般，价格再低一点就好了。",
        "希望增加更多品类。",
        "APP有时候有点卡。",
        "没什么特别的意见。",
        "门店停车不太方便。",
    ),
    "negative": (
        "售后太慢，体验很差。",
        "客服解决不了问题。",
        "价格越来越贵了。",
        "物流经常延误。",
        "投诉了也没人管。",
        "质量不如以前了，不会再买了。",
        "退款太难了。",
    ),
}


def choose_tone(rng: random.Random, satisfaction: float, soured: bool) -> Tone:
    """Mostly positive when satisfied, mostly negative when not; ``soured`` (a churner's recent
    text) is negative nine times in ten."""
    if soured:
        return "negative" if rng.random() < 0.9 else "neutral"
    roll = rng.random()
    if roll < satisfaction**1.5:
        return "positive"
    if roll < satisfaction**1.5 + 0.2:
        return "neutral"
    return "negative"


def rating_for(rng: random.Random, tone: Tone) -> int:
    """A 1–5 star rating that agrees with the tone of the review text."""
    weights = {"positive": (0, 0, 5, 35, 60), "neutral": (5, 25, 50, 20, 0), "negative": (55, 35, 10, 0, 0)}
    return rng.choices((1, 2, 3, 4, 5), weights=weights[tone])[0]


def review_text(rng: random.Random, tone: Tone, product: str) -> str:
    """An opener, two or three remarks and a closing in one tone."""
    remarks = rng.sample(_REMARK[tone], rng.choice((2, 2, 3)))
    body = "，".join(remarks).format(p=product)
    closing = rng.choice(_CLOSE[tone])
    joiner = "" if closing.startswith(("。", "，")) else "，"
    return f"{rng.choice(_OPEN[tone])}{body}{joiner}{closing}"


def ticket_text(rng: random.Random, kind: str, tone: Tone, product: str) -> str:
    """The body of a service ticket of a given kind (投诉/咨询/评价/退换货)."""
    if kind == "咨询":
        text = rng.choice(_QUESTIONS).format(p=product)
        return text if tone != "negative" else text + rng.choice(("都问了好几次了。", "麻烦尽快回复。"))
    if kind == "退换货":
        text = rng.choice(_RETURNS).format(p=product)
        return text if tone != "negative" else text + rng.choice(_CLOSE["negative"])
    if kind == "投诉":
        return review_text(rng, "negative" if tone != "positive" else "neutral", product)
    return review_text(rng, tone, product)


def survey_comment(rng: random.Random, tone: Tone) -> str:
    """One or two short remarks in the tone of the score."""
    return "".join(rng.sample(_SURVEY[tone], 1 if rng.random() < 0.6 else 2))
