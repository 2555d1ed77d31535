"""Where the master key material lives: a key file, an environment variable, or an external KMS command.

One small protocol, :class:`KeyProvider` (load the keyring, save a rotated one), with one implementation per
place, chosen by ``privacy.keys.provider`` in ``huaxiang.yaml``. The ``command`` provider is the KMS seam: a
bank points it at its own client (``vault kv get …``, ``aliyun kms …``, an HSM wrapper) and no code changes.
The program runs as an argument list, never through a shell, with a timeout, in the workspace folder; what
it prints is read as key material and never logged. A relative program path (``./bin/get-key``) is taken
from the workspace folder; a bare name is looked up on ``PATH``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from huaxiang.config import PrivacySpec
from huaxiang.errors import KeyMaterialError
from huaxiang.privacy.crypto import (
    Keyring,
    keyring_document,
    keyring_from_document,
    keyring_from_key,
    load_key_file,
    save_keyring,
)

ENV_KEY_ID = "env"
EXTERNAL_KEY_ID = "external"
_STDERR_SHOWN = 300


class KeyProvider(Protocol):
    """Loads the workspace keyring, and stores a rotated one where it came from (or refuses, saying why)."""

    @property
    def description(self) -> str: ...

    def load(self) -> Keyring: ...

    def save(self, keyring: Keyring) -> None: ...


@dataclass(frozen=True, slots=True)
class FileKeyProvider:
    """An owner-only JSON key file outside the warehouse (the default made by ``huaxiang init``)."""

    path: Path
    env_var: str | None = None

    @property
    def description(self) -> str:
        return f"key file {self.path}"

    def load(self) -> Keyring:
        return load_key_file(self.path, env_var=self.env_var)

    def save(self, keyring: Keyring) -> None:
        save_keyring(keyring, self.path)


@dataclass(frozen=True, slots=True)
class EnvKeyProvider:
    """One base64 key in an environment variable (a container secret); rotated by whoever sets it."""

    variable: str

    @property
    def description(self) -> str:
        return f"environment variable {self.variable}"

    def load(self) -> Keyring:
        value = os.environ.get(self.variable)
        if not value:
            raise KeyMaterialError(
                f"{self.variable} is not set / 未设置密钥环境变量",
                hint=f"set {self.variable} to a base64 32-byte key, or choose another privacy.keys.provider",
            )
        return keyring_from_key(value, origin=self.variable, key_id=ENV_KEY_ID)

    def save(self, keyring: Keyring) -> None:
        raise KeyMaterialError(
            "the key comes from the environment variable and cannot be rotated by huaxiang / 环境变量中的密钥无法在此轮换",
            hint="move the key into the key file, or rotate it in your key management system",
        )


@dataclass(frozen=True, slots=True)
class AutoKeyProvider:
    """The environment variable when it is set, else the key file: how a workspace works out of the box."""

    file: FileKeyProvider
    env: EnvKeyProvider

    def _chosen(self) -> FileKeyProvider | EnvKeyProvider:
        return self.env if os.environ.get(self.env.variable) else self.file

    @property
    def description(self) -> str:
        return self._chosen().description

    def load(self) -> Keyring:
        return self._chosen().load()

    def save(self, keyring: Keyring) -> None:
        self._chosen().save(keyring)


@dataclass(frozen=True, slots=True)
class CommandKeyProvider:
    """An external program prints the key material (a base64 key or a keyring document) on stdout.

    ``store`` (optional) receives a rotated keyring document on stdin; without it the KMS owns rotation.
    """

    command: tuple[str, ...]
    store: tuple[str, ...] | None
    timeout: float
    cwd: Path

    @property
    def description(self) -> str:
        return f"key command {self.command[0]}"

    def _argv(self, command: Sequence[str]) -> list[str]:
        program = command[0]
        if os.sep in program and not os.path.isabs(program):
            program = str(self.cwd / program)
        return [program, *command[1:]]

    def _run(self, command: Sequence[str], stdin: str | None) -> str:
        name = command[0]
        try:
            done = subprocess.run(
                self._argv(command),
                input=stdin,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                cwd=self.cwd,
                check=False,
            )
        except FileNotFoundError:
            raise KeyMaterialError(
                f"key command {name!r} was not found / 找不到密钥命令",
                location="huaxiang.yaml privacy.keys",
                hint="give the program's full path, a path relative to the workspace, or a name on PATH",
            ) from None
        except PermissionError:
            raise KeyMaterialError(
                f"key command {name!r} is not executable / 密钥命令不可执行",
                location="huaxiang.yaml privacy.keys",
                hint=f"run: chmod u+x {name}",
            ) from None
        except subprocess.TimeoutExpired:
            raise KeyMaterialError(
                f"key command {name!r} did not finish within {self.timeout:g} s / 密钥命令超时",
                location="huaxiang.yaml privacy.keys.timeout_seconds",
                hint="check that the KMS is reachable, or raise timeout_seconds",
            ) from None
        if done.returncode != 0:
            message = " ".join(done.stderr.split())[:_STDERR_SHOWN]
            raise KeyMaterialError(
                f"key command {name!r} failed with exit code {done.returncode}: {message} / 密钥命令失败",
                location="huaxiang.yaml privacy.keys",
                hint="run the command yourself to see why (credentials, network, key name)",
            )
        return done.stdout

    def load(self) -> Keyring:
        output = self._run(self.command, None).strip()
        origin = f"output of key command {self.command[0]!r}"
        if output.startswith("{"):
            return keyring_from_document(output, origin=origin)
        return keyring_from_key(output, origin=origin, key_id=EXTERNAL_KEY_ID)

    def save(self, keyring: Keyring) -> None:
        if self.store is None:
            raise KeyMaterialError(
                "the key comes from an external command and no store_command is configured / 未配置密钥保存命令",
                location="huaxiang.yaml privacy.keys.store_command",
                hint="rotate the key in your KMS, or configure store_command to receive the new keyring on stdin",
            )
        self._run(self.store, keyring_document(keyring))


def key_provider(spec: PrivacySpec, root: Path) -> KeyProvider:
    """The provider ``privacy.keys.provider`` names, with paths taken from the workspace folder ``root``."""
    keys = spec.keys
    file = FileKeyProvider(root / spec.key_file, env_var=spec.key_env)
    env = EnvKeyProvider(spec.key_env)
    if keys.provider == "file":
        return file
    if keys.provider == "env":
        return env
    if keys.provider == "command":
        if not keys.command:  # the config validator already refuses this; kept for callers building specs
            raise KeyMaterialError("privacy.keys.provider is command but no command is given")
        return CommandKeyProvider(
            tuple(keys.command),
            tuple(keys.store_command) if keys.store_command else None,
            keys.timeout_seconds,
            root,
        )
    return AutoKeyProvider(file, env)
