"""deploy/ describes one production shape three ways (Procfile, systemd, compose): the same
commands as the production-server test runs, migrations before the web server, workers that
scale, and exactly one beat."""

import re
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
GUNICORN = "gunicorn config.wsgi -c deploy/gunicorn.conf.py"


def test_compose_runs_postgres_redis_web_workers_and_one_beat():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]

    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
    assert " ".join(services["web"]["command"]) == GUNICORN
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "celery -A config worker" in " ".join(services["worker"]["command"])
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert " ".join(services["beat"]["command"]).startswith("celery -A config beat")
    assert "deploy" not in services["beat"]  # never replicated
    for name in ("migrate", "web", "worker", "beat"):
        assert services[name]["image"] == "flowsync:latest"
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://")
        assert services[name]["environment"]["CELERY_BROKER_URL"].startswith("redis://redis")


def test_procfile_and_systemd_run_the_same_processes():
    procfile = dict(
        line.split(": ", 1)
        for line in (DEPLOY / "Procfile").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert procfile["web"].startswith(GUNICORN)
    assert procfile["worker"].startswith("celery -A config worker")
    assert procfile["beat"].startswith("celery -A config beat")
    assert "migrate" in procfile["release"]
    assert "collectstatic" in procfile["release"]

    units = {path.name: path.read_text() for path in (DEPLOY / "systemd").glob("*.service")}
    assert set(units) == {
        "flowsync-web.service",
        "flowsync-worker@.service",
        "flowsync-beat.service",
    }
    exec_start = {
        name: re.search(r"^ExecStart=(.*)$", text, re.M).group(1) for name, text in units.items()
    }
    assert exec_start["flowsync-web.service"].endswith(GUNICORN.removeprefix("gunicorn "))
    assert "manage.py migrate" in units["flowsync-web.service"]
    assert "celery -A config worker" in exec_start["flowsync-worker@.service"]
    assert exec_start["flowsync-beat.service"].endswith("celery -A config beat --loglevel INFO")
