"""A keyring backend standing in for the OS keyring (macOS Keychain, Windows Credential Locker,
the Secret Service) in tests: the ``keyring`` library loads it by name from
``PYTHON_KEYRING_BACKEND=tests.keyring_standin.JsonFileKeyring`` and it keeps its secrets in the
JSON file ``$DESKTOPVIZ_TEST_KEYRING`` names, so a test can see what was saved there."""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class JsonFileKeyring(KeyringBackend):
    """Secrets by (service, username) in one JSON file."""

    priority = 1.0  # type: ignore[assignment]

    @staticmethod
    def _path() -> Path:
        return Path(os.environ["DESKTOPVIZ_TEST_KEYRING"])

    def _load(self) -> dict[str, str]:
        try:
            return json.loads(self._path().read_text())
        except FileNotFoundError:
            return {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}/{username}"] = password
        self._path().write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if f"{service}/{username}" not in data:
            raise PasswordDeleteError(username)
        del data[f"{service}/{username}"]
        self._path().write_text(json.dumps(data))
