"""Where a local cloud lives: its region and account, its state directory and the private files in it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_STATE_DIR = REPO / ".local-cloud"
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account


def write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only (0600), atomically."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


@dataclass(frozen=True)
class StatePaths:
    root: Path
    profile: Path

    @classmethod
    def of(cls, state_dir: Path | None = None, profile: Path | None = None) -> StatePaths:
        root = Path(state_dir or os.environ.get("AMI_LC_STATE_DIR") or DEFAULT_STATE_DIR).expanduser().resolve()
        env_profile = os.environ.get("AMI_LC_PROFILE")
        chosen = profile or (Path(env_profile) if env_profile else root / "profile.json")
        return cls(root=root, profile=Path(chosen).expanduser().resolve())

    @property
    def pid(self) -> Path:
        return self.root / "server.pid"

    @property
    def status(self) -> Path:
        return self.root / "status.json"

    @property
    def control(self) -> Path:
        return self.root / "control.json"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    @property
    def notifications(self) -> Path:
        return self.root / "notifications.jsonl"

    @property
    def assembly(self) -> Path:
        return self.root / "cdk.out"
