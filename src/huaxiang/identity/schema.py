"""The identity stage's warehouse tables: who each identifier and event belongs to, and why.

Created on first use with ``CREATE TABLE IF NOT EXISTS`` (cheap and idempotent), so a warehouse made before
identity resolution existed gains the tables without a migration step.
"""

from __future__ import annotations

from huaxiang.backends.duckdb import Warehouse

IDENTITY_SCHEMA = """
CREATE TABLE IF NOT EXISTS identity_assignments (
    token      VARCHAR NOT NULL,   -- identifier token (HMAC), never plaintext
    id_type    VARCHAR NOT NULL,
    person_id  VARCHAR NOT NULL,
    role       VARCHAR NOT NULL    -- member | shared (a shared value attached to this person) | device
);
CREATE TABLE IF NOT EXISTS event_persons (
    event_id   VARCHAR NOT NULL,
    person_id  VARCHAR NOT NULL,
    via        VARCHAR NOT NULL    -- identifier | last_login | next_login | device | event
);
CREATE TABLE IF NOT EXISTS person_aliases (
    alias_id   VARCHAR NOT NULL,   -- an absorbed person id; looking it up finds person_id
    person_id  VARCHAR NOT NULL,
    run_id     VARCHAR NOT NULL,
    merged_at  TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS identity_persons (
    person_id  VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL, -- the merge rule keeps the oldest id
    run_id     VARCHAR NOT NULL,
    kind       VARCHAR NOT NULL    -- identified | device (anonymous events on one device) | event
);
CREATE TABLE IF NOT EXISTS identity_matches (
    event_id_l        VARCHAR NOT NULL,
    event_id_r        VARCHAR NOT NULL,
    match_probability DOUBLE NOT NULL,
    match_weight      DOUBLE NOT NULL,
    run_id            VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS identity_models (
    model_id     VARCHAR NOT NULL,
    trained_at   TIMESTAMP NOT NULL,
    run_id       VARCHAR NOT NULL,
    fingerprint  VARCHAR NOT NULL,  -- the matched fields and settings it was trained for
    records      BIGINT NOT NULL,   -- identify records it was trained on (growth past a share retrains)
    settings     JSON NOT NULL      -- Splink settings with trained m, u, prior and prediction rules
);
CREATE TABLE IF NOT EXISTS identity_overrides (
    override_id VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,  -- must_link | cannot_link
    token_a     VARCHAR NOT NULL,
    type_a      VARCHAR NOT NULL,
    token_b     VARCHAR NOT NULL,
    type_b      VARCHAR NOT NULL,
    note        VARCHAR,
    created_by  VARCHAR NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    removed_at  TIMESTAMP          -- set when a later, opposite decision replaced it
);
CREATE TABLE IF NOT EXISTS identity_log (
    run_id     VARCHAR NOT NULL,
    logged_at  TIMESTAMP NOT NULL,
    action     VARCHAR NOT NULL,   -- merge | split | conflict | shared_over_limit
    person_id  VARCHAR,            -- surviving, new or kept person
    other_id   VARCHAR,            -- absorbed or original person
    subject    VARCHAR,            -- the token pair or token the entry is about
    evidence   JSON NOT NULL
);
CREATE TABLE IF NOT EXISTS identity_runs (
    run_id          VARCHAR NOT NULL,
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP NOT NULL,
    mode            VARCHAR NOT NULL,  -- full | incremental
    rules_hash      VARCHAR NOT NULL,
    new_events      BIGINT NOT NULL,
    scope_events    BIGINT NOT NULL,
    scope_persons   BIGINT NOT NULL,
    report          JSON NOT NULL
);
"""


def ensure_identity_schema(warehouse: Warehouse) -> None:
    warehouse.con.execute(IDENTITY_SCHEMA)
