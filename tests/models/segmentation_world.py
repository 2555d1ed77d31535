"""A small demo retailer, ingested and resolved once per test process, copied for each module that uses it.

It carries the demo's ground truth: every resolved person's latent segment (by majority of their records),
so tests can check that clusters recover real structure.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from huaxiang.demo import demo_sources_yaml, generate_demo_data
from huaxiang.demo.evaluation import true_attribute
from huaxiang.identity.resolve import resolve_identities
from huaxiang.ingest.pipeline import ingest_all
from huaxiang.workspace import Workspace

CUSTOMERS = 600
SEED = 7
_BUILT: dict[str, Path] = {}


def _template(factory: pytest.TempPathFactory) -> Path:
    if "root" not in _BUILT:
        root = factory.getbasetemp() / "segmentation-demo"
        if root.exists():
            shutil.rmtree(root)
        workspace = Workspace.init(root, name="demo", sources_yaml=demo_sources_yaml())
        try:
            generate_demo_data(root / "data", customers=CUSTOMERS, seed=SEED)
            ingest_all(workspace)
            resolve_identities(workspace)
        finally:
            workspace.close()
        _BUILT["root"] = root
    return _BUILT["root"]


def demo_workspace(factory: pytest.TempPathFactory, name: str) -> Workspace:
    """A private copy of the resolved demo workspace."""
    target = factory.mktemp(name) / "ws"
    shutil.copytree(_template(factory), target)
    return Workspace.open(target)


def true_segments(workspace: Workspace) -> dict[str, str]:
    """person_id → the latent segment of the true customer most of the person's records belong to."""
    return true_attribute(workspace, workspace.root / "data" / "truth", "segment_en")
