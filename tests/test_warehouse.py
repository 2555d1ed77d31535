"""The warehouse's schema: a file written by an earlier version is brought up to date when it is opened."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb

from huaxiang.backends.duckdb import Warehouse


def test_identifier_ciphertexts_of_an_older_warehouse_move_to_one_row_per_value(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))  # the earlier layout: a ciphertext on every event's identifier row
    con.execute(
        "CREATE TABLE event_identifiers (event_id VARCHAR, id_type VARCHAR, token VARCHAR, value_enc BLOB)"
    )
    con.execute(
        "INSERT INTO event_identifiers VALUES ('e1', 'phone', 't1', '\\xAA'::BLOB), "
        "('e2', 'phone', 't1', '\\xAA'::BLOB), ('e3', 'email', 't2', '\\xBB'::BLOB)"
    )
    con.close()

    warehouse = Warehouse(path)
    assert warehouse.rows("SELECT * FROM event_identifiers ORDER BY 1") == [
        ("e1", "phone", "t1"),
        ("e2", "phone", "t1"),
        ("e3", "email", "t2"),
    ]
    assert warehouse.rows("SELECT * FROM identifier_values ORDER BY 1") == [
        ("t1", "phone", b"\xaa"),
        ("t2", "email", b"\xbb"),
    ]
    warehouse.close()
    assert Warehouse(path).count("identifier_values") == 2  # opening again changes nothing


def test_duckdb_prints_no_progress_bar_of_its_own() -> None:
    # Outside a test runner DuckDB turns its progress bar on, and it would draw into the CLI's Rich output
    # on every statement longer than two seconds: checked in a fresh interpreter.
    script = (
        "import duckdb\n"
        "from huaxiang.backends.duckdb import connect\n"
        "query = \"SELECT current_setting('enable_progress_bar')\"\n"
        "print(duckdb.connect().execute(query).fetchone()[0], connect().execute(query).fetchone()[0])\n"
    )
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert shown.split() == ["True", "False"]
