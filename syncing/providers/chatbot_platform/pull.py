"""The conversations stream: workflows (flow names), then conversations active in the run's
window with their messages, stored through ``insights.services`` exactly as an ingested batch
(message ids as client ids), so the insights endpoints answer the same either way.

Window. An incremental run asks for conversations whose last message falls in [cursor less
``LOOKBACK``, run start); a full refresh drops the start. The end is fixed at the run's start so
a conversation that gains a message during the run leaves the window instead of moving inside
it, and the next run (whose window starts before this one's end) reads it.

Offset paging. Leaving the window shifts every later conversation one place towards the start,
so a page boundary can skip one. Nothing can enter the window during the run (its end is in
the past), so a shift shows as a smaller ``total`` on a later page: such a pass is followed by
another (at most ``MAX_PASSES``), in which conversations already read are not fetched again.
A window still shrinking after that keeps the cursor where it was, so the next run reads it
again.

Unchanged conversations cost no message call: when the conversation's last message id is
already stored, it is counted unchanged. The others' message lists are read through a bounded
pool (``_MessageLists``), all of them before the next page is listed (so a conversation that
moves is read as above). A page's new messages are stored with one ingestion call (one
transaction, one statement per table for the whole page) while the next page's lists are
read; a list call that fails still has the pages read before it written, so a killed or failed
run keeps the pages it finished. Counts are per conversation: created (none of its messages
was stored), updated (some were new), unchanged.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from queue import SimpleQueue

from django.db import connections
from django.utils.dateparse import parse_datetime

from config.formats import iso_utc
from insights.models import ChatMessage
from insights.services import chat_events_ingest, chat_flows_name
from syncing import conf
from syncing.errors import RecordError, UpstreamError
from syncing.providers.chatbot_platform import schemas
from syncing.providers.chatbot_platform.client import ChatbotPlatformClient
from syncing.runs import RunRecorder
from syncing.validation import validate_record, validate_records

# Messages stored upstream a little after a later one was listed (clock skew, slow writes)
# are still read by the next incremental run.
LOOKBACK = timedelta(minutes=5)
MAX_PASSES = 3


def conversations_pull(run: RunRecorder) -> None:
    client: ChatbotPlatformClient = run.client()  # type: ignore[assignment]
    _pull_workflows(run, client)
    since = None if run.run.full_refresh else _cursor_time(run.run.cursor_before)
    start = iso_utc(since - LOOKBACK) if since else None
    end = iso_utc(run.run.started_at)
    read: set[str] = set()
    with _MessageLists(run) as message_lists:
        for _ in range(MAX_PASSES):
            totals = set()
            read_all: _Page | None = None  # every message list read, not written yet
            try:
                for page, total in client.conversation_pages(start=start, end=end):
                    totals.add(total)
                    fresh = []
                    for record in validate_records(schemas.Conversation, page):
                        if isinstance(record, RecordError):
                            run.record_failure(record)
                        elif record["id"] not in read:
                            read.add(record["id"])
                            fresh.append(record)
                    reading = _page_start(run, message_lists, fresh)
                    if read_all is not None:  # written while this page's lists are read
                        _page_write(run, read_all)
                        read_all = None
                    read_all = reading.wait()  # before the next page is listed
            except UpstreamError:
                if read_all is not None:  # keep what was read before the list failed
                    _page_write(run, read_all)
                raise
            if read_all is not None:
                _page_write(run, read_all)
            if len(totals) <= 1:  # the list did not shrink under this pass
                run.cursor_after = {"until": end}
                return
    # Still moving after MAX_PASSES: the next run reads this window again.
    run.cursor_after = run.run.cursor_before


def _pull_workflows(run: RunRecorder, client: ChatbotPlatformClient) -> None:
    names = {}
    for record in validate_records(schemas.Workflow, client.workflows(), id_field="_id"):
        if isinstance(record, RecordError):
            run.record_failure(record)
        else:
            names[record["_id"]] = record["name"]
    chat_flows_name(workspace=run.connection.workspace, names=names)


@dataclass
class _Page:
    """A page's conversations whose last message is not stored yet, the reads of their
    message lists (under way in the pool), and once they are done, what they answered."""

    conversations: list[dict]
    reads: list[Future]
    message_lists: list[list] | None = None

    def wait(self) -> _Page:
        """Wait for every read; raises the first read's UpstreamError (the reads not started
        yet are dropped)."""
        try:
            self.message_lists = [read.result() for read in self.reads]
        finally:
            for read in self.reads:
                read.cancel()
        return self


class _MessageLists:
    """The per-conversation message GETs through a bounded pool: ``pool_size`` threads (a
    connection option, else SYNC_FETCH_POOL_SIZE), each with its own client (a requests
    Session is not shared between threads), all under the account's one request budget. The
    threads only speak HTTP; every database write stays on the run's thread."""

    def __init__(self, run: RunRecorder):
        size = int(run.connection.options.get("pool_size") or conf.get("SYNC_FETCH_POOL_SIZE"))
        self._clients: SimpleQueue = SimpleQueue()
        for _ in range(size):
            self._clients.put(run.client())
        self._pool = ThreadPoolExecutor(size, thread_name_prefix="chatbot-messages")

    def __enter__(self) -> _MessageLists:
        return self

    def __exit__(self, *exc_info) -> None:
        self._pool.shutdown(cancel_futures=True)

    def start(self, conversations: list[dict]) -> _Page:
        reads = [self._pool.submit(self._read, c["id_url_encoded"]) for c in conversations]
        return _Page(conversations=conversations, reads=reads)

    def _read(self, conversation_url_id: str) -> list:
        client = self._clients.get()
        try:
            return client.messages(conversation_url_id)
        except UpstreamError:
            connections.close_all()  # a 401's callback may have used this thread's connection
            raise
        finally:
            self._clients.put(client)


def _page_start(run: RunRecorder, message_lists: _MessageLists, conversations: list) -> _Page:
    """Count the conversations whose last message is stored as unchanged (no message call);
    start reading the others' messages."""
    last_ids = [c["last_message"]["id"] for c in conversations if c.get("last_message")]
    stored_last = _stored(run.connection.workspace, last_ids)
    changed = []
    for conversation in conversations:
        last = conversation.get("last_message")
        if last and last["id"] in stored_last:
            run.count(unchanged=1)
        else:
            changed.append(conversation)
    return message_lists.start(changed)


def _page_write(run: RunRecorder, page: _Page) -> None:
    """One page's messages stored with one ``chat_events_ingest`` call (one transaction, one
    statement per table, so the rollup triggers fire once a page, not once a conversation),
    then the run's checkpoint."""
    per_conversation: list[list[dict]] = []
    for conversation, raws in zip(page.conversations, page.message_lists or [], strict=True):
        items = []
        for raw in raws:
            try:
                items.append(_message_item(conversation, validate_record(schemas.Message, raw)))
            except RecordError as error:
                run.record_failure(error)
        per_conversation.append(items)
    every_item = [item for items in per_conversation for item in items]
    workspace = run.connection.workspace
    new = chat_events_ingest(workspace=workspace, items=_distinct(every_item)).accepted_ids
    for items in per_conversation:
        ids = {item["id"] for item in items}
        if not ids & new:
            run.count(unchanged=1)
        else:
            run.count(**{"created" if ids <= new else "updated": 1})
    run.checkpoint()


def _message_item(conversation: dict, message: dict) -> dict:
    """A message as the ingestion API's validated item: the user's words are received, the
    bot's and a human agent's are sent."""
    text = message.get("message")
    return {
        "id": message["id"],
        "kind": "message",
        "direction": "received" if message["role"] == "user" else "sent",
        "user": {"id": conversation["user_id"], "name": conversation.get("user_name") or ""},
        "text": text if isinstance(text, str) else "",
        "flow": None,
        "at": _aware(message["timestamp"]),
    }


def _aware(moment: datetime) -> datetime:
    """A timestamp sent without a zone is UTC (as the serializers read it)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _distinct(items: list[dict]) -> list[dict]:
    return list({item["id"]: item for item in items}.values())


def _stored(workspace, message_ids: list[str]) -> set[str]:
    return set(
        ChatMessage.objects.for_workspace(workspace)
        .filter(client_id__in=message_ids)
        .values_list("client_id", flat=True)
    )


def _cursor_time(cursor) -> datetime | None:
    if isinstance(cursor, dict) and isinstance(cursor.get("until"), str):
        return parse_datetime(cursor["until"])
    return None
