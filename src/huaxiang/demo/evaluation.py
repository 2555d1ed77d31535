"""How the demo's models do against its ground truth: the planted churners.

The demo knows who its churners are (``truth/persons.csv``). A resolved person is matched to the true
customer most of their records belong to (``truth/records.csv``), so the check goes through identity
resolution exactly as a real workspace would.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from huaxiang.demo.timeline import NOW, UTC_OFFSET, to_local
from huaxiang.models.churn import ChurnResult
from huaxiang.workspace import Workspace


def reference_time() -> dt.datetime:
    """The demo's "now" (the end of 30 November 2026 in Shanghai) as naive UTC, like every stored time."""
    return to_local(NOW) - dt.timedelta(seconds=UTC_OFFSET)


def true_customers(workspace: Workspace, truth: Path) -> dict[str, str]:
    """person_id → the true customer (``true_id``) most of the person's records belong to."""
    with (truth / "records.csv").open(encoding="utf-8", newline="") as handle:
        owner = {(r["source"], r["record_key"]): r["true_id"] for r in csv.DictReader(handle)}
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for person, source, key in workspace.warehouse.rows(
        "SELECT p.person_id, e.source, e.record_key FROM events e JOIN event_persons p USING (event_id)"
    ):
        if (source, key) in owner:
            votes[person][owner[source, key]] += 1
    return {person: counts.most_common(1)[0][0] for person, counts in votes.items()}


def true_attribute(workspace: Workspace, truth: Path, column: str) -> dict[str, str]:
    """person_id → a column of ``truth/persons.csv`` (``churner``, ``segment_en``…) for their true customer."""
    with (truth / "persons.csv").open(encoding="utf-8", newline="") as handle:
        values = {r["true_id"]: r[column] for r in csv.DictReader(handle)}
    return {person: values[true_id] for person, true_id in true_customers(workspace, truth).items()}


def planted_churners(workspace: Workspace, truth: Path) -> dict[str, bool]:
    """person_id → whether the person's true customer is a planted churner."""
    return {person: value == "true" for person, value in true_attribute(workspace, truth, "churner").items()}


def churn_auc_against_planted(workspace: Workspace, result: ChurnResult, truth: Path) -> dict[str, float]:
    """ROC-AUC of the model and both baselines against the planted churners, on the validation customers.

    At the validation cutoff every planted churner has made their last purchase; everyone else goes on
    buying at their own pace, so a quiet spell alone does not make a churner.
    """
    planted = planted_churners(workspace, truth)
    validation = result.validation
    known = np.array([p in planted for p in validation.person_ids])
    labels = np.array([planted[p] for p in validation.person_ids if p in planted])
    if labels.size == 0 or labels.all() or not labels.any():
        return {}
    return {
        name: float(roc_auc_score(labels, np.asarray(scores)[known]))
        for name, scores in validation.scores.items()
    }
