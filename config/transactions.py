"""Requests in a transaction only when they write.

``ATOMIC_REQUESTS`` wraps every request in a transaction (a ``BEGIN`` and a ``COMMIT``, two
round trips, or two savepoint statements inside a test). A read gains nothing from it: at
PostgreSQL's READ COMMITTED each statement takes its own snapshot, inside a transaction or
not. ``atomic_writes`` keeps the transaction for the methods that can write and drops it for
``GET``, ``HEAD`` and ``OPTIONS``; it is applied to the hot read endpoints in their ``urls.py``.
A read called inside a transaction someone else opened (a test's) still gets a savepoint, so
that its error marks only the savepoint for rollback, as under ``ATOMIC_REQUESTS``.
"""

from __future__ import annotations

import functools

from django.db import connection, transaction

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def atomic_writes(view):
    """``view`` (the function ``as_view()`` returns) in a transaction for unsafe methods only.

    A safe method must not write: outside a transaction, the view runs in autocommit."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method in SAFE_METHODS and not connection.in_atomic_block:
            return view(request, *args, **kwargs)
        with transaction.atomic():
            return view(request, *args, **kwargs)

    return transaction.non_atomic_requests(wrapped)
