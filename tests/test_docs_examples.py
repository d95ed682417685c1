"""Every request example of the README and docs/ runs against a live server on the demo data.

An example is a ```sh block that calls curl on the local server (``$BASE`` or
``http://127.0.0.1:8000``; a block about another host, such as a production health check, is
not one). Each block runs on its own in bash (``set -euo
pipefail``, curl failing on any status of 400 or more), exactly as written except for what a
reader substitutes: the server address (``http://127.0.0.1:8000``) and the variables the docs
tell the reader to set (``KEY``, ``BASE``, and for the HubSpot webhook example
``CONNECTION_ID`` and ``APP_SECRET``). The key is the one ``bootstrap_demo`` prints. When a
```json block follows an example, the JSON the example printed must have every key that block
shows, at every level (the values depend on the data).
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command

from syncing.services import connection_create
from workspaces.models import Workspace

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
DOCUMENTED_ADDRESS = "http://127.0.0.1:8000"
FENCE = re.compile(r"^\s*```(\w*)\s*$")
LOCAL_SERVER = re.compile(r"\$BASE\b|\$\{BASE\}|" + re.escape(DOCUMENTED_ADDRESS))
APP_SECRET = "docs-example-app-secret"


@dataclass
class Example:
    document: str
    line: int
    script: str
    expected: object | None  # the JSON block shown after it, if any

    def __str__(self) -> str:
        return f"{self.document}:{self.line}"


def fenced_blocks(text: str) -> list[tuple[str, int, str, bool]]:
    """(language, first line number, body, only blank lines since the previous block)."""
    blocks, language, start, body, gap = [], None, 0, [], []
    for number, line in enumerate(text.splitlines(), start=1):
        fence = FENCE.match(line)
        if language is None:
            if fence:
                language, start, body = fence.group(1), number, []
            else:
                gap.append(line)
        elif fence and not fence.group(1):
            adjacent = all(not g.strip() for g in gap)
            blocks.append((language, start, "\n".join(body), adjacent))
            language, gap = None, []
        else:
            body.append(line)
    return blocks


def examples_of(path: Path) -> list[Example]:
    found: list[Example] = []
    document = str(path.relative_to(ROOT))
    previous: Example | None = None  # the example the block before this one was, if any
    for language, start, body, adjacent in fenced_blocks(path.read_text()):
        if language == "json" and adjacent and previous:
            previous.expected = json.loads(body)
        previous = None
        if language == "sh" and re.search(r"\bcurl\b", body) and LOCAL_SERVER.search(body):
            previous = Example(document, start, body, None)
            found.append(previous)
    return found


def missing_keys(documented: object, actual: object, path: str = "") -> list[str]:
    """Keys of ``documented`` (recursively; a list by its first item) absent from ``actual``."""
    if isinstance(documented, dict):
        if not isinstance(actual, dict):
            return [path or "(top)"]
        missing = []
        for key, value in documented.items():
            where = f"{path}.{key}" if path else key
            if key not in actual:
                missing.append(where)
            else:
                missing.extend(missing_keys(value, actual[key], where))
        return missing
    if isinstance(documented, list) and documented and isinstance(actual, list) and actual:
        return missing_keys(documented[0], actual[0], f"{path}[0]")
    return []


def substituted(script: str, variables: dict[str, str], address: str) -> str:
    for name, value in variables.items():
        script = re.sub(rf"(?m)^(\s*){name}=\S+.*$", rf"\g<1>{name}='{value}'", script)
    return script.replace(DOCUMENTED_ADDRESS, address)


def run(example: Example, variables: dict[str, str], address: str, folder: Path) -> str | None:
    """The example's failure, or None."""
    prelude = 'set -euo pipefail\ncurl() { command curl --show-error --fail-with-body "$@"; }\n'
    script = prelude + substituted(example.script, variables, address)
    done = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=folder,  # where an example's -o file goes
        env={**os.environ, **variables},
    )
    if done.returncode:
        return f"exit {done.returncode}: {done.stderr.strip()} {done.stdout.strip()[:500]}"
    if example.expected is None:
        return None
    try:
        answer = json.loads(done.stdout)
    except json.JSONDecodeError:
        return f"not JSON: {done.stdout[:500]}"
    missing = missing_keys(example.expected, answer)
    return f"keys missing from the answer: {missing}" if missing else None


def test_the_documents_have_request_examples():
    examples = [e for path in DOCUMENTS for e in examples_of(path)]
    assert {"README.md", "docs/api/rooms.md", "docs/api/webinars.md", "docs/api/insights.md"} <= {
        e.document for e in examples
    }


def test_a_json_block_after_an_example_is_its_expected_answer():
    text = '```sh\ncurl x\n```\n\n```json\n{"a": {"b": 1}}\n```\n\nprose\n\n```json\n[]\n```\n'
    blocks = fenced_blocks(text)
    assert [(lang, adjacent) for lang, _, _, adjacent in blocks] == [
        ("sh", True),
        ("json", True),
        ("json", False),
    ]
    assert missing_keys({"a": {"b": 1, "c": 2}}, {"a": {"b": 5}}) == ["a.c"]
    assert missing_keys([{"id": 1}], [{"id": 2, "x": 3}]) == []


@pytest.mark.django_db(transaction=True)
def test_every_request_example_succeeds_on_the_demo_workspace(live_server, settings, tmp_path):
    settings.PUBLIC_BASE_URL = live_server.url  # HubSpot signs the URL it was registered with
    out = io.StringIO()
    call_command("bootstrap_demo", stdout=out)
    key = re.search(r"^API key:\s+(\S+)$", out.getvalue(), re.M).group(1)
    hubspot = connection_create(
        workspace=Workspace.objects.get(slug="demo"),
        provider="hubspot",
        name="HubSpot (docs example)",
        base_url="https://hubspot.example",
        credentials={"access_token": "unused", "app_secret": APP_SECRET},
    )
    variables = {
        "KEY": key,
        "BASE": live_server.url,
        "CONNECTION_ID": str(hubspot.pk),
        "APP_SECRET": APP_SECRET,
    }
    examples = [e for path in DOCUMENTS for e in examples_of(path)]
    failures = {str(e): run(e, variables, live_server.url, tmp_path) for e in examples}
    assert {where: why for where, why in failures.items() if why} == {}
