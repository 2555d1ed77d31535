"""Run the benchmarks: ``python -m benchmarks [NAME ...]`` (all of them when no name is given).

Each prints a Rich table beside its baseline measured in the same run; results with the machine and date
are kept in docs/benchmarks.md. Each module also runs alone with its own options, e.g.
``python -m benchmarks.ingest --rows 10000000``.
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = {
    "ingest": "benchmarks.ingest",
    "kinds": "benchmarks.kinds_bench",
    "clv": "benchmarks.models_clv",
    "text": "benchmarks.text_sentiment",
    "febrl": "benchmarks.identity_febrl",
    "identity": "benchmarks.identity",
    "build": "benchmarks.build",
    "referrals": "benchmarks.referral_graph",
    "churn": "benchmarks.models_churn",
    "segmentation": "benchmarks.segmentation",
    "erasure": "benchmarks.erasure",
}


def main() -> None:
    names = sys.argv[1:] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    for name in names:
        print(f"== {name} ==", flush=True)
        sys.argv = [BENCHMARKS[name]]
        importlib.import_module(BENCHMARKS[name]).main()


if __name__ == "__main__":
    main()
