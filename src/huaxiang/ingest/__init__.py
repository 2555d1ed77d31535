"""Ingest: connectors, value kinds, the pipeline and the quarantine."""

from huaxiang.ingest.pipeline import IngestResult, ingest_all, ingest_source
from huaxiang.ingest.quarantine import (
    list_quarantine,
    retry_quarantine,
    show_quarantined,
    summarise_quarantine,
)

__all__ = [
    "IngestResult",
    "ingest_all",
    "ingest_source",
    "list_quarantine",
    "retry_quarantine",
    "show_quarantined",
    "summarise_quarantine",
]
