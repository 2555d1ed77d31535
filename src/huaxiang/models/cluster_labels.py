"""Clusters described in words: how each differs from the whole population, in zh-CN and English.

A cluster's centroid in standardised space is the z-score of its members' mean on each feature, so "stands
out" is a fixed threshold on that z-score (``NOTABLE``, half a standard deviation) rather than a ranking
that would always find something to say. The short name cites the one or two features that set the
cluster apart most; the description lists every notable feature with its direction and size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from huaxiang.i18n import Label, bilingual
from huaxiang.models.cluster_features import FEATURES_BY_NAME

#: A cluster stands out on a feature when its mean is at least this many standard deviations off.
NOTABLE = 0.5
#: A kept name stays while the features it cites are still at least this far off in the same direction.
STILL_NOTABLE = 0.3


@dataclass(frozen=True, slots=True)
class Trait:
    """One way a cluster stands out: a feature and its direction (+1 above the population, -1 below)."""

    feature: str
    direction: int

    def words(self) -> Label:
        feature = FEATURES_BY_NAME[self.feature]
        return feature.high if self.direction > 0 else feature.low

    def to_text(self) -> str:
        return f"{'+' if self.direction > 0 else '-'}{self.feature}"

    @staticmethod
    def from_text(text: str) -> Trait:
        return Trait(text[1:], 1 if text[0] == "+" else -1)


def notable_traits(z: Mapping[str, float], threshold: float = NOTABLE) -> list[Trait]:
    """Features on which the cluster is at least ``threshold`` standard deviations off, most distinct first."""
    ranked = sorted(((value, name) for name, value in z.items()), key=lambda item: (-abs(item[0]), item[1]))
    return [Trait(name, 1 if value > 0 else -1) for value, name in ranked if abs(value) >= threshold]


def name_of(traits: Sequence[Trait]) -> Label:
    """A short name from the cited traits: ``高频·高消费客户`` / ``Frequent, high-spending customers``."""
    if not traits:
        return bilingual("普通客户", "Typical customers")
    zh = "·".join(t.words().zh for t in traits) + "客户"
    english = ", ".join(t.words().en for t in traits)
    return bilingual(zh, english[:1].upper() + english[1:] + " customers")


def choose_name(
    z: Mapping[str, float], taken: set[str], previous: Sequence[Trait] | None = None
) -> tuple[tuple[Trait, ...], Label]:
    """The traits a cluster's name cites and the name itself, unique among ``taken`` (English names).

    A cluster matched to a previous model's cluster keeps the previous name while every trait it cites
    still holds (``STILL_NOTABLE``, same direction): a small drift must not rename a segment analysts
    already know. Otherwise the one or two most distinct traits are cited (three, or the full list, when
    that name is already taken by another cluster).
    """
    if previous is not None:
        holding = {(t.feature, t.direction) for t in notable_traits(z, STILL_NOTABLE)}
        if all((t.feature, t.direction) in holding for t in previous):
            name = name_of(previous)
            if name.en not in taken:
                return tuple(previous), name
    traits = notable_traits(z)
    for count in (2, 3, len(traits)):
        cited = tuple(traits[:count])
        name = name_of(cited)
        if name.en not in taken:
            return cited, name
    return tuple(traits), name_of(traits)


def describe(z: Mapping[str, float], share: float) -> Label:
    """A sentence: the cluster's share and every notable difference from the population, in both languages."""
    traits = notable_traits(z)
    percent = f"{share * 100:.0f}%"
    if not traits:
        return bilingual(
            f"占客户的{percent}；各项特征都接近全体平均水平",
            f"{percent} of customers; close to the population average on every feature",
        )
    zh_parts, en_parts = [], []
    for trait in traits:
        feature = FEATURES_BY_NAME[trait.feature]
        value = z[trait.feature]
        zh_parts.append(f"{feature.label.zh}{'偏高' if value > 0 else '偏低'}（{value:+.1f}σ）")
        en_parts.append(
            f"{feature.label.en.lower()} {'above' if value > 0 else 'below'} average ({value:+.1f} sd)"
        )
    return bilingual(
        f"占客户的{percent}；" + "、".join(t.words().zh for t in traits) + "：" + "，".join(zh_parts),
        f"{percent} of customers; " + ", ".join(t.words().en for t in traits) + ": " + "; ".join(en_parts),
    )
