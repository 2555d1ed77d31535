"""Property: whatever the rows hold, every record read is accepted or quarantined, and none twice."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huaxiang.ingest import ingest_all
from huaxiang.workspace import Workspace

YAML = """\
sources:
  - name: orders
    format: csv
    path: data/orders.csv
    key: [order_id]
    event_type: purchase
    timestamp: paid_at
    fields:
      - {column: order_id, role: property, required: true}
      - {column: phone, role: identifier}
      - {column: email, role: identifier}
      - {column: amount, role: property, kind: amount, on_invalid: quarantine}
      - {column: gender, role: property, kind: gender}
"""

cells = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "13812345678",
            "+86 139 0000 1111",
            "00000000000",
            "a@b.cn",
            "not-an-email",
            "¥1,299.00",
            "-5",
            "abc",
            "男",
            "F",
            "9",
            "2024-03-01 10:00:00",
            "2024/3/1 9:05",
            "2099-01-01",
            "20240301120000",
            "昨天",
            '"',
            "\n",
            "O1",
            "O2",
        ]
    ),
    st.text(max_size=12),
)
rows = st.lists(
    st.fixed_dictionaries(
        dict.fromkeys(("order_id", "phone", "email", "amount", "gender", "paid_at"), cells)
    ),
    max_size=25,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=st.lists(rows, min_size=1, max_size=3))
def test_read_equals_accepted_plus_quarantined(batches: list[list[dict[str, str]]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "data").mkdir()
        workspace = Workspace.init(root, sources_yaml=YAML)
        try:
            inserted_total = 0
            for batch in batches:
                buffer = io.StringIO()
                writer = csv.DictWriter(
                    buffer, fieldnames=["order_id", "phone", "email", "amount", "gender", "paid_at"]
                )
                writer.writeheader()
                writer.writerows(batch)
                (root / "data" / "orders.csv").write_text(buffer.getvalue(), encoding="utf-8")
                [result] = ingest_all(workspace)
                if result.batch_id is None:  # the same bytes again: skipped as already ingested
                    continue
                assert result.records_read == len(batch)
                assert result.records_read == result.accepted + result.quarantined
                assert result.accepted == result.inserted + result.duplicates
                inserted_total += result.inserted
                reread = workspace.warehouse.scalar(
                    "SELECT records_read FROM ingest_runs WHERE batch_id = ?", [result.batch_id]
                )
                assert reread == result.records_read
            assert workspace.warehouse.count("events") == inserted_total
            ids = workspace.warehouse.scalar("SELECT count(DISTINCT event_id) = count(*) FROM events")
            assert ids is True
        finally:
            workspace.close()
