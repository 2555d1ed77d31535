"""A SQL source read from a real PostgreSQL server, incrementally by watermark."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from huaxiang.ingest import ingest_all
from tests.conftest import MakeWorkspace
from tests.postgres_server import postgres_server

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


def sources_yaml(url: str) -> str:
    return f"""\
sources:
  - name: members
    format: sql
    url: {url}
    table: members
    key: [member_id]
    event_type: identify
    timestamp: updated_at
    watermark: updated_at
    fields:
      - {{column: member_id, role: identifier, name: crm_id, required: true}}
      - {{column: mobile, role: identifier, name: phone}}
      - {{column: name, role: attribute, name: full_name, kind: name}}
      - {{column: spend, role: attribute, kind: amount}}
"""


def test_postgres_table_with_watermark(make_workspace: MakeWorkspace, postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "CREATE TABLE members (member_id text, mobile text, name text, spend numeric(12,2), updated_at timestamp)"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO members VALUES "
                "('M1', '13812345678', '张伟', 12.50, '2024-05-01 10:00:00'), "
                "('M2', '139 0000 1111', '李娜', 0, '2024-05-02 10:00:00'), "
                "('M3', 'nope', NULL, NULL, '2024-05-03 10:00:00')"
            )
        )
    workspace = make_workspace(sources_yaml(postgres_url))
    [first] = ingest_all(workspace)
    assert (first.records_read, first.inserted, first.quarantined) == (3, 3, 0)
    assert workspace.warehouse.scalar("SELECT flags FROM events WHERE record_key = 'M3'") == ["mobile"]
    [unchanged] = ingest_all(workspace)
    assert unchanged.records_read == 0
    with engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO members VALUES ('M4', '13711112222', '王芳', 3, '2024-05-04 10:00:00')")
        )
    [second] = ingest_all(workspace)
    assert (second.records_read, second.inserted) == (1, 1)
    assert workspace.warehouse.count("events") == 4
    spend = workspace.warehouse.scalar("SELECT attributes->>'spend' FROM events WHERE record_key = 'M1'")
    assert float(spend) == 12.5
    engine.dispose()


def test_bad_table_names_the_source(make_workspace: MakeWorkspace, postgres_url: str) -> None:
    from huaxiang.errors import SourceError

    workspace = make_workspace(sources_yaml(postgres_url).replace("table: members", "table: missing_table"))
    with pytest.raises(SourceError, match="missing_table"):
        ingest_all(workspace)
