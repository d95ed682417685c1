"""gunicorn settings for flowsync's web process (the Procfile, the systemd unit and the compose
file all start ``gunicorn config.wsgi --config deploy/gunicorn.conf.py``). Each value can be
changed with the environment variable named beside it."""

import multiprocessing
import os

# Where to listen: behind a reverse proxy on the same machine, keep 127.0.0.1.
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# A sync worker serves one request at a time, so it keeps its one database connection between
# requests (config/settings.py closes connections after each request by default).
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")
# Synchronous workers, one request each: requests run in a database transaction and are short.
# 2 x cores + 1 is gunicorn's rule of thumb.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
# A request taking longer than this is killed (the API's largest CSV reports stream well within).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
# Recycle workers now and then, so a slow leak in any library cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200
# Which proxies may set X-Forwarded-* (the proxy in front; see docs/deployment.md).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
