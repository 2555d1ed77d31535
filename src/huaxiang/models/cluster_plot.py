"""Cluster profile charts: how big each cluster is, and how it differs from the population on each feature.

Plotly, so the same figures serve the HTML model report and the dashboard; labels follow the display
language. The heatmap shows z-scores (members' mean against the population, in standard deviations) on a
diverging scale centred on zero, the same numbers the cluster names and descriptions are made from.
"""

from __future__ import annotations

from typing import Any

from huaxiang.i18n import Language, bilingual, current_language
from huaxiang.models.cluster_features import FEATURES_BY_NAME
from huaxiang.models.cluster_model import ClusterModel


def cluster_figures(model: ClusterModel, language: Language | None = None) -> list[Any]:
    """Two ``plotly.graph_objects.Figure``: cluster sizes, and the feature z-score heatmap."""
    import plotly.graph_objects as go  # imported here: plotly takes a second to load and only charts need it

    language = language or current_language()
    names = [f"{c.id} · {c.name.text(language)}" for c in model.clusters]
    sizes = go.Figure(
        go.Bar(
            x=[c.size for c in model.clusters],
            y=names,
            orientation="h",
            text=[f"{c.share * 100:.1f}%" for c in model.clusters],
            textposition="auto",
        )
    )
    sizes.update_layout(
        title=bilingual("各群组人数", "Cluster sizes").text(language),
        xaxis_title=bilingual("客户数", "Customers").text(language),
        yaxis={"autorange": "reversed"},
    )
    features = list(model.clusters[0].z) if model.clusters else []
    z = [[c.z[f] for f in features] for c in model.clusters]
    heatmap = go.Figure(
        go.Heatmap(
            z=z,
            x=[FEATURES_BY_NAME[f].label.text(language) for f in features],
            y=names,
            zmid=0,
            colorscale="RdBu",
            reversescale=True,
            text=[[f"{v:+.1f}" for v in row] for row in z],
            texttemplate="%{text}",
            colorbar={"title": "z"},
        )
    )
    heatmap.update_layout(
        title=bilingual(
            "群组特征（与全体相比的标准分）", "Cluster profiles (z-score against all customers)"
        ).text(language),
        yaxis={"autorange": "reversed"},
    )
    return [sizes, heatmap]
