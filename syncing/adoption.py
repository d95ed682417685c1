"""Storing the upstream id a push obtained on the local object that was pushed."""

from __future__ import annotations

from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.db.models import QuerySet


def upstream_id_claim(
    *, target: QuerySet, upstream_id: str, release_twin: Callable[[], None]
) -> None:
    """Set ``upstream_id`` on ``target`` (the pushed object) once ``release_twin`` has made
    any other local row holding it (a twin a pull stored meanwhile) give it up. A pull that
    commits such a twin after that look-up makes our update wait on the unique upstream id
    and then fail: the twin, visible now, is released and the update repeated. A second
    failure is a real conflict and propagates."""
    release_twin()
    try:
        with transaction.atomic():
            target.update(upstream_id=upstream_id)
    except IntegrityError:
        release_twin()
        target.update(upstream_id=upstream_id)
