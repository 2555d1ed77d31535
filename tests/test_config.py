"""huaxiang.yaml validation: every error names the file, the line and the key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from huaxiang.config import load_config, parse_config, parse_duration
from huaxiang.errors import ConfigError
from huaxiang.workspace import CONFIG_TEMPLATE

GOOD = """\
version: 1
sources:
  - name: crm
    format: csv
    path: data/crm.csv
    event_type: identify
    fields:
      - column: 手机号
        role: identifier
        name: phone
"""


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source_name="huaxiang.yaml")
    return str(caught.value)


def test_template_written_by_init_is_valid() -> None:
    config = parse_config(CONFIG_TEMPLATE.format(name="shop"))
    assert config.workspace.timezone == "Asia/Shanghai" and config.sources == []


def test_defaults_follow_identifier_types() -> None:
    field = parse_config(GOOD).sources[0].fields[0]
    assert (field.target, field.value_kind, field.classification, field.invalid_action) == (
        "phone",
        "phone",
        "personal",
        "null",
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("role: identifier", "role: identifer"), "huaxiang.yaml:9 sources[0].fields[0].role"),
        (("format: csv", "format: cvs"), "huaxiang.yaml:4 sources[0].format"),
        (("    event_type: identify\n", ""), "huaxiang.yaml:3 sources[0]: give exactly one of `event_type`"),
        (("name: crm", "name: CRM"), "huaxiang.yaml:3 sources[0].name: expected lower_snake_case"),
        (
            ("path: data/crm.csv", "path: ../../etc/passwd"),
            "huaxiang.yaml:5 sources[0].path: expected a path inside",
        ),
        (
            ("path: data/crm.csv", "path: /etc/passwd"),
            "sources[0].path: expected a path inside the workspace",
        ),
        (("version: 1", "version: 1\nextra_key: 3"), "huaxiang.yaml:2 extra_key: unknown key"),
    ],
)
def test_errors_point_at_file_line_and_key(change: tuple[str, str], expected: str) -> None:
    assert expected in error_of(GOOD.replace(*change))


def test_invalid_yaml_and_zone_and_duration() -> None:
    assert "huaxiang.yaml:3: not valid YAML" in error_of("sources:\n  - name: a\n   bad: [\n")
    assert "expected an IANA time zone" in error_of("workspace:\n  timezone: Mars/Olympus\n")
    assert parse_duration("3y").days == 1095
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration("-7")


def test_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="huaxiang init"):
        load_config(tmp_path / "huaxiang.yaml")


def test_personal_columns_cannot_be_record_keys() -> None:
    text = GOOD.replace("    event_type: identify\n", "    event_type: identify\n    key: [手机号]\n")
    assert "hold personal data" in error_of(text)
