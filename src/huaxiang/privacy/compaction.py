"""Compaction: rewrite the warehouse into a fresh file so deleted rows leave no bytes behind.

DuckDB marks deleted rows and frees blocks but does not overwrite them: after an erasure the person's
names and addresses (stored in clear at level ``personal``) were still readable in the file's bytes. A
``COPY FROM DATABASE`` into a new file holds only live rows; it then replaces the old file atomically. Run
after erasure and retention (the commands do), and after key rotation so no ciphertext under a retired key
lingers either.

The swap needs the file to be open nowhere else in this process (another connection would keep writing to
the replaced file); on Linux this is checked through ``/proc/self/fd`` and the compaction refuses otherwise.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from huaxiang.errors import HuaxiangError
from huaxiang.privacy.context import PrivacyContext

log = logging.getLogger(__name__)

_ALIAS = "huaxiang_compact"


class CompactableContext(PrivacyContext, Protocol):
    """A workspace that can close its warehouse connection (it reopens on next use)."""

    def close(self) -> None: ...


class CompactionError(HuaxiangError):
    """The warehouse could not be rewritten safely; the original file is unchanged."""


@dataclass(frozen=True, slots=True)
class Compaction:
    bytes_before: int
    bytes_after: int


def _literal(path: Path) -> str:
    # ATTACH takes no bound parameters; the path is the workspace's own, quoted all the same.
    return "'" + str(path).replace("'", "''") + "'"


def _held_elsewhere(path: Path) -> bool:
    """Whether this process still has the file open (Linux only; elsewhere the check is skipped)."""
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        log.warning("cannot check for other open connections to %s on this platform", path.name)
        return False
    target = path.resolve()
    for fd in fds.iterdir():
        try:
            if Path(os.readlink(fd)) == target:
                return True
        except OSError:
            continue
    return False


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def compact_warehouse(context: CompactableContext) -> Compaction | None:
    """Copy every live row into a new file and swap it in; None for an in-memory warehouse."""
    warehouse = context.warehouse
    path = warehouse.path
    if path is None:
        return None
    fresh = path.with_name(path.name + ".compact")
    fresh.unlink(missing_ok=True)  # a leftover of an interrupted run
    before = path.stat().st_size
    warehouse.con.execute("CHECKPOINT")
    database = warehouse.scalar("SELECT current_database()")
    warehouse.con.execute(f"ATTACH {_literal(fresh)} AS {_ALIAS}")
    try:
        warehouse.con.execute(f'COPY FROM DATABASE "{database}" TO {_ALIAS}')
    finally:
        warehouse.con.execute(f"DETACH {_ALIAS}")
    context.close()
    wal = path.with_name(path.name + ".wal")
    if _held_elsewhere(path) or wal.exists():
        fresh.unlink(missing_ok=True)
        raise CompactionError(
            "the warehouse is still open elsewhere in this process; it was not compacted / 仓库仍被占用",
            location=str(path),
            hint="close every other Workspace on this folder, then run the command again",
        )
    _fsync(fresh)
    os.replace(fresh, path)
    _fsync(path.parent)
    after = path.stat().st_size
    log.info("warehouse compacted: %d → %d bytes", before, after)
    return Compaction(before, after)


def try_compact(context: CompactableContext) -> bool:
    """Compact if possible; a refusal is logged and reported as False (the deletion itself stands)."""
    try:
        compact_warehouse(context)
    except CompactionError as error:
        log.warning("%s", error)
        return False
    return True
