"""What every command shares: the consoles, the common options, JSON output and friendly errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from huaxiang.errors import HuaxiangError

console = Console()
errors = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

WorkspaceOption = Annotated[
    Path, typer.Option("--workspace", "-w", help="Workspace folder (holds huaxiang.yaml).", show_default=True)
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")]


def friendly_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Show a HuaxiangError as one readable line (where, what, how to fix) and exit 1, not a traceback."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except HuaxiangError as error:
            errors.print(f"[bold red]error / 错误:[/] {error}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper


def print_json(data: Any) -> None:
    """JSON on stdout: dataclasses become objects, anything else unknown becomes its string."""
    sys.stdout.write(json.dumps(_plain(data), ensure_ascii=False, indent=2, default=str) + "\n")


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
