"""A workspace: a folder with ``huaxiang.yaml``, its warehouse, its keys and its reports.

Files, connections and keys come in through here, so the stages themselves stay free of paths and I/O set-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from huaxiang.backends.duckdb import Warehouse
from huaxiang.config import CONFIG_FILE, Config, load_config, parse_config
from huaxiang.errors import ConfigError
from huaxiang.privacy.crypto import FieldCipher, Keyring, create_key_file
from huaxiang.privacy.key_providers import KeyProvider, key_provider

STATE_DIR = ".huaxiang"

CONFIG_TEMPLATE = """\
# huaxiang.yaml — what this workspace ingests and how (reference: docs/configuration.md)
version: 1

workspace:
  name: {name}
  timezone: Asia/Shanghai   # zone of timestamps that carry none; everything is stored in UTC
  region: CN                # default region for phone numbers without a country code

privacy:
  key_env: HUAXIANG_MASTER_KEY          # a base64 32-byte key in this variable wins over the key file
  key_file: .huaxiang/keys/master.key   # created by `huaxiang init`, owner-only; back it up, keep it out of git

# One entry per source system export. Example:
#
# sources:
#   - name: crm
#     format: csv                # csv | jsonl | parquet | xlsx | sql
#     path: data/crm_*.csv       # relative to this folder; globs allowed
#     encoding: auto             # auto | utf-8 | utf-8-sig | gb18030 | gbk
#     key: [客户编号, 更新时间]     # columns that identify a record (re-ingesting adds nothing)
#     event_type: identify       # a CRM table is a stream of `identify` events
#     timestamp: 更新时间
#     fields:
#       - {{column: 客户编号, role: identifier, name: crm_id, required: true}}
#       - {{column: 手机号, role: identifier, name: phone}}
#       - {{column: 身份证号, role: identifier, name: id_card, on_invalid: quarantine}}
#       - {{column: 姓名, role: attribute, name: full_name, kind: name}}
#       - {{column: 地址, role: attribute, name: address, kind: address}}
sources: []
"""


@dataclass
class Workspace:
    """An opened workspace. Use :meth:`open` or :meth:`init`; close it (or use ``with``) when done."""

    root: Path
    config: Config
    _warehouse: Warehouse | None = field(default=None, repr=False)
    _keyring: Keyring | None = field(default=None, repr=False)

    @classmethod
    def init(cls, root: Path, *, name: str | None = None, sources_yaml: str | None = None) -> Workspace:
        """Create ``huaxiang.yaml``, ``.huaxiang/`` and a fresh key; refuses to overwrite a workspace."""
        root = root.resolve()
        config_path = root / CONFIG_FILE
        if config_path.exists():
            raise ConfigError(
                "a workspace already exists here",
                location=str(config_path),
                hint="open it instead, or choose another folder",
            )
        root.mkdir(parents=True, exist_ok=True)
        workspace_name = name or _snake(root.name)
        text = CONFIG_TEMPLATE.format(name=workspace_name)
        if sources_yaml:
            text = text.replace("sources: []\n", sources_yaml)
        parse_config(text, source_name=str(config_path))  # never write a config we could not read back
        config_path.write_text(text, encoding="utf-8")
        (root / STATE_DIR / "reports").mkdir(parents=True, exist_ok=True)
        (root / STATE_DIR / ".gitignore").write_text("*\n")
        workspace = cls.open(root, create_key=True)
        workspace.warehouse  # noqa: B018 - create the warehouse file and schema now
        return workspace

    @classmethod
    def open(cls, root: Path, *, create_key: bool = False) -> Workspace:
        root = root.resolve()
        config = load_config(root / CONFIG_FILE)
        workspace = cls(root=root, config=config)
        from_file = workspace.config.privacy.keys.provider in ("auto", "file")
        if create_key and from_file and not workspace.key_file.exists():
            create_key_file(workspace.key_file)
        return workspace

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._warehouse is not None:
            self._warehouse.close()
            self._warehouse = None

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def warehouse_path(self) -> Path:
        return self.state_dir / "warehouse.duckdb"

    @property
    def reports_dir(self) -> Path:
        path = self.state_dir / "reports"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def key_file(self) -> Path:
        return self.root / self.config.privacy.key_file

    @property
    def warehouse(self) -> Warehouse:
        if self._warehouse is None:
            self._warehouse = Warehouse(self.warehouse_path)
        return self._warehouse

    @property
    def key_provider(self) -> KeyProvider:
        """Where the keys come from (``privacy.keys.provider``): key file, environment or a KMS command."""
        return key_provider(self.config.privacy, self.root)

    @property
    def keyring(self) -> Keyring:
        if self._keyring is None:
            self._keyring = self.key_provider.load()
        return self._keyring

    @property
    def cipher(self) -> FieldCipher:
        return FieldCipher(self.keyring)

    def reload_keys(self) -> None:
        """Forget the cached keyring (after a key rotation wrote a new key file)."""
        self._keyring = None

    def reload_config(self) -> None:
        """Re-read ``huaxiang.yaml`` (after a user fixed a mapping, before a quarantine retry)."""
        self.config = load_config(self.root / CONFIG_FILE)


def _snake(text: str) -> str:
    cleaned = "".join(c if c.isalnum() and c.isascii() else "_" for c in text.lower()).strip("_")
    return cleaned if cleaned[:1].isalpha() else f"ws_{cleaned}" if cleaned else "workspace"
