"""Imported by a test's worker process (SYNC_OUTBOX_HANDLER_MODULES) to register the test
handlers there."""

from tests.syncing.fakes.handlers import register

register()
