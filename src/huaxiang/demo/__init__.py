"""Demo data: a Chinese retailer's messy multi-source exports, with the ground truth kept apart."""

from __future__ import annotations

from importlib.resources import files

from huaxiang.demo.generator import DemoManifest, generate_demo_data

__all__ = ["DemoManifest", "demo_sources_yaml", "generate_demo_data"]


def demo_sources_yaml() -> str:
    """The ``sources:`` section of the demo workspace's ``huaxiang.yaml`` (a commented package resource)."""
    return files("huaxiang.demo").joinpath("workspace.yaml").read_text(encoding="utf-8")
