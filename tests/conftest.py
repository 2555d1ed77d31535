"""Shared fixtures: workspaces built from small files written by each test, and the shared datasets."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from huaxiang.workspace import Workspace


def shared_data() -> Path:
    """The project's public datasets (``../shared/data``), or skip the test with the reason."""
    configured = os.environ.get("HUAXIANG_SHARED_DATA")
    path = Path(configured) if configured else Path(__file__).resolve().parents[2] / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"shared datasets not found at {path}; set HUAXIANG_SHARED_DATA")
    return path


MakeWorkspace = Callable[..., Workspace]


@pytest.fixture(autouse=True, scope="session")
def user_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A user cache of the test run's own (``XDG_CACHE_HOME``): tests never write to the real home."""
    path = tmp_path_factory.mktemp("user-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(path))
        yield path


@pytest.fixture
def make_workspace(tmp_path: Path) -> Iterator[MakeWorkspace]:
    """Create a workspace whose ``sources:`` section is the given YAML, with files written into it."""
    opened: list[Workspace] = []

    def make(sources_yaml: str, files: dict[str, bytes | str] | None = None, name: str = "ws") -> Workspace:
        root = tmp_path / name
        for relative, content in (files or {}).items():
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, str):
                target.write_text(content, encoding="utf-8")
            else:
                target.write_bytes(content)
        workspace = Workspace.init(root, sources_yaml=sources_yaml)
        opened.append(workspace)
        return workspace

    yield make
    for workspace in opened:
        workspace.close()
