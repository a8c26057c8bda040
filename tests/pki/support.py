"""Shared by the PKI tests: the session environment handed out by the `pki_env` fixture."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mocks.http import HttpServer
from mocks.kernel import Sandbox
from mocks.pki import Pki


@dataclass
class PkiEnv:
    sandbox: Sandbox
    server: HttpServer
    folder: Path

    @property
    def pki(self) -> Pki:
        return self.sandbox.pki

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def write(self, name: str, data: bytes) -> Path:
        path = self.folder / name
        path.write_bytes(data)
        return path
