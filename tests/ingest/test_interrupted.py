"""A killed ingest leaves no partial batch: the next run ends exactly where an uninterrupted run ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from huaxiang.workspace import Workspace
from tests.conftest import MakeWorkspace

YAML = """\
sources:
  - name: orders
    format: csv
    path: data/orders.csv
    key: [order_id]
    event_type: purchase
    timestamp: paid_at
    fields:
      - {column: phone, role: identifier}
      - {column: order_id, role: property}
      - {column: amount, role: property, kind: amount}
"""
ROWS = 150_000
PREFIXES = ("38", "39", "86", "35", "50")  # mobile prefixes in service


def orders_csv() -> str:
    lines = ["order_id,phone,amount,paid_at"]
    lines += [
        f'O{i},1{PREFIXES[i % 5]}{i:08d},"¥{i % 5000},{i % 100:02d}.50",2024-0{1 + i % 9}-1{i % 10} 10:{i % 60:02d}:00'
        for i in range(ROWS)
    ]
    lines.append("BAD,not-a-phone,abc,yesterday")
    return "\n".join(lines) + "\n"


def state(workspace: Workspace) -> tuple[int, int, int, int, int]:
    w = workspace.warehouse
    return (
        w.count("events"),
        w.count("event_identifiers"),
        w.count("quarantine"),
        w.count("ingest_runs"),
        w.count("source_files"),
    )


def run_ingest(root: Path) -> subprocess.Popen[bytes]:
    code = "from pathlib import Path; from huaxiang.ingest import ingest_all; from huaxiang.workspace import Workspace; ingest_all(Workspace.open(Path(r'%s')))"
    return subprocess.Popen(
        [sys.executable, "-c", code % root], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def test_killed_ingest_then_rerun_equals_uninterrupted(make_workspace: MakeWorkspace) -> None:
    data = orders_csv()
    reference = make_workspace(YAML, {"data/orders.csv": data}, name="reference")
    reference.close()
    started = time.perf_counter()
    process = run_ingest(reference.root)
    assert process.wait(timeout=300) == 0, process.stderr.read() if process.stderr else ""
    duration = time.perf_counter() - started
    expected = state(reference)
    assert expected[0] == ROWS and expected[2] == 1
    reference.close()

    victim = make_workspace(YAML, {"data/orders.csv": data}, name="victim")
    victim.close()
    kills = 0
    # Kill points at growing fractions of the reference run's time, whatever the speed of the machine: the
    # first lands long before the run could finish (even when the reference ran under a heavier load), the
    # later ones inside the batch (interpreter start-up is the first part of a run).
    for attempt, fraction in enumerate((0.35, 0.55, 0.7, 0.8, 0.9, 0.95)):
        process = run_ingest(victim.root)
        time.sleep(duration * fraction)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            kills += 1
        process.wait(timeout=60)
        partial = state(victim)
        victim.close()
        assert partial in {(0, 0, 0, 0, 0), expected}, f"attempt {attempt}: partial batch {partial}"
        if partial == expected:
            break
    assert kills >= 1, "the ingest finished before any kill; the test did not exercise an interruption"
    final = run_ingest(victim.root)
    assert final.wait(timeout=300) == 0
    assert state(victim) == expected
