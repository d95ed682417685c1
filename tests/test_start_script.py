"""bin/flowsync's newcomer checks, run as a newcomer runs them: the script copied into an empty
checkout, so what it reports comes before it installs or starts anything."""

from __future__ import annotations

import os
import re
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
    # A PATH with only the tools the script needs: no python3.12 and no uv, on any machine.
    tools = checkout / "system-bin"
    tools.mkdir(exist_ok=True)
    for tool in ("bash", "dirname", "seq", "sleep"):
        if not (tools / tool).exists():
            (tools / tool).symlink_to(shutil.which(tool))
    base = {"PATH": str(tools), "HOME": str(checkout)}
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


def stub(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/bash\n{body}\n")
    path.chmod(0o755)


def test_the_supervisor_names_the_process_that_died_and_stops_the_others(checkout):
    """start with stand-ins for uv, Python and Celery: the worker exits with status 3."""
    stub(checkout / ".tools" / "bin" / "uv", "exit 0")
    stub(
        checkout / ".venv" / "bin" / "python",
        'case "$2" in bootstrap_demo) echo "Login: admin@example.com" ;;'
        ' runserver|demo_sandbox) echo $$ >> "$0.pids"; exec sleep 60 ;; esac',
    )
    stub(
        checkout / ".venv" / "bin" / "celery",
        'case "$4" in worker) sleep 1; exit 3 ;; beat) echo $$ >> "$0.pids"; exec sleep 60 ;; esac',
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    result = run(checkout, "start", PORT=str(port))

    assert result.returncode == 3
    assert "Login: admin@example.com" in result.stdout
    assert re.search(
        r"flowsync: the celery worker \(pid \d+\) exited with status 3; stopping the others",
        result.stderr,
    )
    started = [
        int(pid)
        for name in ("python", "celery")
        for pid in (checkout / ".venv" / "bin" / f"{name}.pids").read_text().split()
    ]
    assert len(started) == 3  # web server, sandbox, beat
    for pid in started:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
