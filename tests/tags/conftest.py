"""The shop workspace (tests/traits/shop.py) with the standard library, shared by a module's tests."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from huaxiang.config import CONFIG_FILE
from huaxiang.workspace import Workspace
from tests.traits.shop import shop_workspace

#: The end of 29 February and of 31 March 2024 in Shanghai, in UTC.
END_OF_FEBRUARY = datetime(2024, 2, 29, 16)
END_OF_MARCH = datetime(2024, 3, 31, 16)

OpenShop = Callable[[str], Workspace]


@pytest.fixture(scope="module")
def open_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenShop]:
    """A fresh shop workspace, ingested and resolved, with extra YAML appended to its huaxiang.yaml.

    The files are ingested once per module; every call gets its own copy of that workspace folder.
    """
    opened: list[Workspace] = []
    template: list[Path] = []

    def make_workspace(
        sources_yaml: str, files: dict[str, bytes | str] | None = None, name: str = "ws"
    ) -> Workspace:
        root = tmp_path_factory.mktemp("template") / name
        for relative, content in (files or {}).items():
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, str):
                target.write_text(content, encoding="utf-8")
            else:
                target.write_bytes(content)
        return Workspace.init(root, sources_yaml=sources_yaml)

    def make(extra_yaml: str = "") -> Workspace:
        if not template:
            workspace = shop_workspace(make_workspace)
            workspace.close()
            template.append(workspace.root)
        root = tmp_path_factory.mktemp("shop") / "ws"
        shutil.copytree(template[0], root)
        if extra_yaml:
            with (root / CONFIG_FILE).open("a", encoding="utf-8") as config:
                config.write(extra_yaml)
        workspace = Workspace.open(root)
        opened.append(workspace)
        return workspace

    yield make
    for workspace in opened:
        workspace.close()
