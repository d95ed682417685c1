"""bin/flowsync's newcomer checks, run as a newcomer runs them: the script copied into an empty
checkout, so what it reports comes before it installs or starts anything."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    (tmp_path / "bin").mkdir()
    shutil.copy(ROOT / "bin" / "flowsync", tmp_path / "bin" / "flowsync")
    return tmp_path


@pytest.fixture
def taken_port():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def run(checkout: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    # Only the system's directories: no python3.12 and no uv on this PATH.
    base = {"PATH": "/usr/bin:/bin", "HOME": str(checkout)}
    return subprocess.run(
        [str(checkout / "bin" / "flowsync"), *args],
        env=base | env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_a_taken_port_is_reported_before_anything_starts(checkout, taken_port):
    result = run(checkout, "start", PORT=str(taken_port))

    assert result.returncode == 1
    assert f"port {taken_port} on 127.0.0.1 is already in use" in result.stderr
    assert not (checkout / ".venv").exists()


def test_settings_in_dotenv_are_read_and_the_environment_wins(checkout, taken_port):
    (checkout / ".env").write_text(f"# local settings\nHOST=127.0.0.1\nPORT='{taken_port}'\n")

    from_file = run(checkout, "start")
    overridden = run(checkout, "start", PORT="1")  # nothing listens on port 1

    assert f"port {taken_port} on 127.0.0.1 is already in use" in from_file.stderr
    assert "Python 3.12 is needed" in overridden.stderr


def test_missing_python_is_one_clear_message(checkout):
    result = run(checkout, "manage", "check")

    assert result.returncode == 1
    assert result.stderr.startswith("flowsync: Python 3.12 is needed")
    assert "command not found" not in result.stderr


def test_a_malformed_dotenv_line_is_named(checkout):
    (checkout / ".env").write_text("PORT=8000\nthis is not a setting\n")

    result = run(checkout, "manage", "check")

    assert "flowsync: .env line 2 is not KEY=VALUE" in result.stderr
