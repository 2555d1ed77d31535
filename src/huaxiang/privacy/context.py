"""What the privacy layer needs from a workspace, as a protocol: the layer sits below ``workspace``.

The import-linter layers put ``privacy`` under ``workspace`` (the workspace opens keys through
``privacy.crypto``), so privacy functions take any object with these members; ``Workspace`` is one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from huaxiang.backends.duckdb import Warehouse
from huaxiang.config import Config
from huaxiang.privacy.crypto import FieldCipher, Keyring


class PrivacyContext(Protocol):
    """An opened workspace: its config, warehouse, keys and state folder."""

    config: Config

    @property
    def warehouse(self) -> Warehouse: ...

    @property
    def keyring(self) -> Keyring: ...

    @property
    def cipher(self) -> FieldCipher: ...

    @property
    def state_dir(self) -> Path: ...

    @property
    def key_file(self) -> Path: ...


def utc_now() -> datetime:
    """Naive UTC, the warehouse's timestamp convention."""
    return datetime.now(UTC).replace(tzinfo=None)


def audit_anchor_path(context: PrivacyContext) -> Path:
    return context.state_dir / "audit.anchor"
