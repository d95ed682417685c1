""".env.example documents real settings: every variable it names is read by flowsync."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READERS = (
    "config/settings.py",
    "config/env.py",
    "syncing/conf.py",
    "bin/flowsync",
    "deploy/gunicorn.conf.py",
    "deploy/compose.yaml",
)


def test_every_variable_in_env_example_is_read():
    example = (ROOT / ".env.example").read_text()
    names = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    code = "\n".join((ROOT / path).read_text() for path in READERS)

    unread = {
        name
        for name in names
        if f'"{name}"' not in code and f"{{{name}" not in code and f"'{name}'" not in code
    }
    assert len(names) > 15
    assert unread == set()
