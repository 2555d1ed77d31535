"""The Python API: what a data engineer calls directly, and what the CLI is a thin layer over."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pyarrow as pa

from huaxiang import activation
from huaxiang.demo import DemoManifest, demo_sources_yaml, generate_demo_data
from huaxiang.demo import evaluation as demo_evaluation
from huaxiang.errors import HuaxiangError
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
from huaxiang.models import churn as churn_models
from huaxiang.models import clusters as cluster_models
from huaxiang.models import cohorts as cohort_models
from huaxiang.models import registry as model_registry
from huaxiang.models import report as model_reports
from huaxiang.models.profile_scores import model_scores
from huaxiang.models.registry import ModelVersion
from huaxiang.privacy import retention
from huaxiang.privacy.roles import Principal
from huaxiang.quality import QualityReport, build_quality_report, quality_history, save_quality_report
from huaxiang.tags import BuildReport, build_profiles
from huaxiang.workspace import Workspace

T = TypeVar("T")

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
    churn: churn_models.ChurnResult | None
    churn_vs_planted: dict[str, float]  # ROC-AUC against the demo's planted churners, per score
    clusters: cluster_models.ClusterRun | None
    build: BuildReport
    quality: QualityRun
    model_report: Path
    timezone: str


def run_demo(
    out: Path, *, customers: int = 5000, seed: int = 7, on_progress: Progress | None = None
) -> DemoRun:
    """The whole job on the demo retailer: generate its exports, ingest, resolve identities (scored against
    the ground truth), train churn (scored against the planted churners) and clusters, build profiles with
    every model's scores, and write the quality and model reports.

    Models and the build are dated at the demo's own "now" (30 November 2026), so the run gives the same
    numbers whenever it is made.
    """
    out = out.resolve()
    if out.exists():
        shutil.rmtree(out)
    workspace = init_workspace(out, name="demo", sources_yaml=demo_sources_yaml())
    moment = demo_evaluation.reference_time()
    truth = out / "data" / "truth"
    try:
        manifest = generate_demo_data(out / "data", customers=customers, seed=seed, on_progress=on_progress)
        results = ingest(workspace, on_progress=on_progress)
        resolution = resolve_identities(workspace, on_progress=on_progress)
        accuracy = evaluate_resolution(workspace, truth / "records.csv")
        stage = on_progress or (lambda name, done, total: None)
        stage("models", 0, 2)
        churn = _optional(lambda: churn_models.train_churn(workspace, as_of=moment))
        planted = demo_evaluation.churn_auc_against_planted(workspace, churn, truth) if churn else {}
        stage("models", 1, 2)
        clusters = _optional(lambda: cluster_models.fit_clusters(workspace, as_of=moment))
        stage("models", 2, 2)
        built = build(workspace, as_of=moment, on_progress=on_progress)
        quality = quality_report(workspace)
        report = model_report(workspace, as_of=moment)
    finally:
        workspace.close()
    return DemoRun(
        out,
        manifest,
        results,
        resolution,
        accuracy,
        churn,
        planted,
        clusters,
        built,
        quality,
        report,
        workspace.config.workspace.timezone,
    )


def _optional(train: Callable[[], T]) -> T | None:
    """A model the demo trains when its data allows (a tiny demo may have too few customers for one)."""
    try:
        return train()
    except HuaxiangError as error:
        logging.getLogger(__name__).warning("model not trained: %s", error)
        return None


def build(
    workspace: Workspace,
    *,
    as_of: datetime | None = None,
    reset_history: bool = False,
    models: bool = True,
    on_progress: Progress | None = None,
) -> BuildReport:
    """Build every profile as of ``as_of`` (default now): traits, model scores, tags, a new version.

    ``models=False`` leaves the model outputs empty (NULL), e.g. to time the build alone.
    """
    moment = as_of or datetime.now(UTC).replace(tzinfo=None)
    clock = time.perf_counter()
    scores = model_scores(workspace, moment) if models else []
    scoring = time.perf_counter() - clock
    report = build_profiles(
        workspace, as_of=moment, reset_history=reset_history, model_scores=scores, on_progress=on_progress
    )
    return replace(report, seconds={"models": scoring, **report.seconds}) if models else report


def fit_clusters(
    workspace: Workspace,
    *,
    as_of: datetime | None = None,
    k: int | None = None,
    fresh: bool = False,
) -> cluster_models.ClusterRun:
    """Segment the customers (k-means, k by silhouette unless given) and register the model; cluster ids
    carry over from the newest registered model unless ``fresh``."""
    return cluster_models.fit_clusters(workspace, as_of=as_of, k=k, fresh=fresh)


def show_clusters(workspace: Workspace, version: str = cluster_models.KIND) -> cluster_models.ClusterModel:
    """A registered cluster model (default: the newest) with its clusters' names, sizes and profiles."""
    return cluster_models.load_cluster_model(workspace, version)


assign_clusters = cluster_models.assign_clusters


def cohorts(
    workspace: Workspace,
    *,
    by: cohort_models.CohortBasis = "month",
    as_of: datetime | None = None,
    periods: int = 12,
    include_incomplete: bool = False,
) -> cohort_models.CohortTable:
    """Retention and revenue by acquisition cohort (month of first purchase, first channel or source)."""
    return cohort_models.cohort_table(
        workspace, by=by, as_of=as_of, periods=periods, include_incomplete=include_incomplete
    )


@dataclass(frozen=True, slots=True)
class RetentionRun:
    """A retention purge and the re-derivations it triggered (None: not run before, or nothing purged)."""

    retention: retention.RetentionReport
    resolution: ResolveReport | None
    build: BuildReport | None


def _has_run(workspace: Workspace, table: str) -> bool:
    exists = workspace.warehouse.scalar(
        "SELECT count(*) FROM duckdb_tables() WHERE NOT temporary AND table_name = ?", [table]
    )
    return bool(exists) and workspace.warehouse.count(table) > 0


def apply_retention(
    workspace: Workspace,
    principal: Principal,
    *,
    as_of: datetime | None = None,
    dry_run: bool = False,
    on_progress: Progress | None = None,
) -> RetentionRun:
    """Purge expired events, then re-derive what depended on them: identities (a full resolve, since persons
    may split once a linking event is gone) and profiles, each only if it had been run before.

    Orchestrated here because the privacy layer sits below identity and tags and must not import them.
    """
    report = retention.apply_retention(workspace, principal, as_of=as_of, dry_run=dry_run)
    if dry_run or not report.events:
        return RetentionRun(report, None, None)
    resolved = (
        resolve_identities(workspace, full=True, on_progress=on_progress)
        if _has_run(workspace, "identity_runs")
        else None
    )
    built = build(workspace, on_progress=on_progress) if _has_run(workspace, "profile_builds") else None
    return RetentionRun(report, resolved, built)


def export_audience(
    workspace: Workspace,
    principal: Principal,
    purpose: str,
    out: Path,
    *,
    where: str | None = None,
    contact: str | None = None,
) -> activation.AudienceExport:
    """Write the persons matching ``where`` who consented to ``purpose``: person id and contact, masked by role."""
    return activation.export_audience(workspace, principal, purpose, out, where=where, contact=contact)


def train_churn(workspace: Workspace, *, as_of: datetime | None = None) -> churn_models.ChurnResult:
    """Train the churn model on past cutoffs, validate it out of time against two baselines, register it."""
    return churn_models.train_churn(workspace, as_of=as_of)


def score_churn(
    workspace: Workspace, version: str = churn_models.KIND, *, as_of: datetime | None = None
) -> pa.Table:
    """Churn risk and its top drivers for every customer as of ``as_of`` (default now) with a registered model."""
    return churn_models.score_churn(workspace, version, as_of)


def list_models(workspace: Workspace, kind: str | None = None) -> list[ModelVersion]:
    """Every registered model version, newest first (optionally of one kind)."""
    return model_registry.list_models(workspace.warehouse, kind)


def show_model(workspace: Workspace, reference: str) -> ModelVersion:
    """A registered model by version id, or the newest of a kind (``churn``, ``clv``, ``clusters``…)."""
    return model_registry.find_model(workspace.warehouse, reference)


def model_report(workspace: Workspace, *, out: Path | None = None, as_of: datetime | None = None) -> Path:
    """Write the HTML model report (default: ``.huaxiang/reports/models-<time>.html``) and return its path."""
    moment = as_of or datetime.now(UTC).replace(tzinfo=None)
    path = out or workspace.reports_dir / f"models-{moment:%Y%m%dT%H%M%S}.html"
    return model_reports.model_report(workspace, path, as_of=moment, language=current_language())
