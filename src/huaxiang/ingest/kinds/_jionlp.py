"""jionlp, imported on first use with its import-time banner silenced.

Importing jionlp takes about a second and prints to stdout; library code must not print.
"""

from __future__ import annotations

import contextlib
import functools
import io
import threading
from types import ModuleType

# jionlp's parsers keep per-call state on shared instances: one call at a time.
JIONLP_LOCK = threading.Lock()


@functools.cache
def jionlp_module() -> ModuleType:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        import jionlp
    module: ModuleType = jionlp
    return module
