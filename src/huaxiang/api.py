"""The Python API: what a data engineer calls directly, and what the CLI is a thin layer over."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from huaxiang.demo import DemoManifest, demo_sources_yaml, generate_demo_data
from huaxiang.i18n import current_language
from huaxiang.identity.export import Evaluation, evaluate_resolution
from huaxiang.identity.resolve import ResolveReport, resolve_identities
from huaxiang.ingest.pipeline import IngestResult, Progress, ingest_all, ingest_source
from huaxiang.ingest.quarantine import (
    QuarantinedRecord,
    QuarantineSummary,
    list_quarantine,
    retry_quarantine,
    show_quarantined,
    summarise_quarantine,
)
from huaxiang.quality import QualityReport, build_quality_report, quality_history, save_quality_report
from huaxiang.tags import BuildReport, build_profiles
from huaxiang.workspace import Workspace

__all__ = [
    "DemoRun",
    "IngestResult",
    "QualityReport",
    "QuarantineSummary",
    "QuarantinedRecord",
    "Workspace",
    "generate_demo_data",
    "ingest",
    "init_workspace",
    "list_quarantine",
    "open_workspace",
    "quality_report",
    "retry_quarantine",
    "run_demo",
    "show_quarantined",
    "summarise_quarantine",
]


def init_workspace(path: Path, *, name: str | None = None, sources_yaml: str | None = None) -> Workspace:
    """Create a workspace folder: a commented ``huaxiang.yaml``, ``.huaxiang/`` and a new key."""
    return Workspace.init(path, name=name, sources_yaml=sources_yaml)


def open_workspace(path: Path = Path(".")) -> Workspace:
    return Workspace.open(path)


def ingest(
    workspace: Workspace,
    *,
    source: str | None = None,
    force: bool = False,
    on_progress: Progress | None = None,
) -> list[IngestResult]:
    """Ingest new data of one source, or of every source in declaration order."""
    if source:
        return [ingest_source(workspace, source, force=force, on_progress=on_progress)]
    if force:
        return [
            ingest_source(workspace, s.name, force=True, on_progress=on_progress)
            for s in workspace.config.sources
        ]
    return ingest_all(workspace, on_progress=on_progress)


@dataclass(frozen=True, slots=True)
class QualityRun:
    report: QualityReport
    html: Path | None


def quality_report(workspace: Workspace, *, html: bool = True, html_path: Path | None = None) -> QualityRun:
    """Compute, keep and (optionally) render the data-quality report of the whole warehouse."""
    from huaxiang.quality import write_quality_html  # imports Plotly: only when a page is written

    report = build_quality_report(workspace.warehouse, cipher=workspace.cipher)
    history = quality_history(workspace.warehouse)
    save_quality_report(workspace.warehouse, report)
    page = None
    if html:
        page = html_path or workspace.reports_dir / f"quality-{report.created_at:%Y%m%dT%H%M%S}.html"
        write_quality_html(
            report, history, page, language=workspace.config.workspace.language or current_language()
        )
        shutil.copyfile(page, workspace.reports_dir / "quality-latest.html")
    return QualityRun(report, page)


@dataclass(frozen=True, slots=True)
class DemoRun:
    workspace: Path
    manifest: DemoManifest
    results: list[IngestResult]
    resolution: ResolveReport
    identity_accuracy: Evaluation
    build: BuildReport
    quality: QualityRun
    timezone: str


def run_demo(
    out: Path, *, customers: int = 5000, seed: int = 7, on_progress: Progress | None = None
) -> DemoRun:
    """The whole job on the demo retailer: generate its exports, ingest, resolve identities (scored against
    the ground truth), build profiles and tags, and report data quality."""
    out = out.resolve()
    if out.exists():
        shutil.rmtree(out)
    workspace = init_workspace(out, name="demo", sources_yaml=demo_sources_yaml())
    try:
        manifest = generate_demo_data(out / "data", customers=customers, seed=seed, on_progress=on_progress)
        results = ingest(workspace, on_progress=on_progress)
        resolution = resolve_identities(workspace, on_progress=on_progress)
        accuracy = evaluate_resolution(workspace, out / "data" / "truth" / "records.csv")
        build = build_profiles(workspace, on_progress=on_progress)
        quality = quality_report(workspace)
    finally:
        workspace.close()
    return DemoRun(
        out, manifest, results, resolution, accuracy, build, quality, workspace.config.workspace.timezone
    )
