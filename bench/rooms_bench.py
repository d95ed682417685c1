"""Rooms API read paths and ingestion against hand-written SQL producing the same result.

For the workspace made by ``manage.py bench_rooms_generate`` (10,000 rooms and 1,000,000
engagements at --scale 1), runs each request and its baseline alternately (``--runs`` pairs
after one warm-up pair) and prints the medians and their ratio:

- ``GET /api/v2/rooms?limit=100`` pages 1, 50 and 100, sorted by createdAt and by totalViews,
  against one SQL statement that builds the same page as JSON from the same tables (the room
  table and the RoomTotals rollup, through the same indexes);
- ``GET /api/v2/rooms/{id}`` of a typical room against one SQL statement building its JSON;
- ``GET /api/v2/rooms/{id}/analytics`` of a typical room (the median number of engagements)
  and of the largest, against one SQL statement building the same body;
- ``POST /api/v2/rooms/{id}/activity``, batches of 100 events (20 visits, 40 views, 40
  engagements, new ids each time), against the raw INSERTs of the same rows in one
  transaction (visits, engagements, the viewership upsert; no validation, no viewer lookup,
  no totals): events per second;
- ``GET /api/whoami`` against ``SELECT 1``: the fixed cost every request above includes.

API requests go through Django's test client: the full middleware, authentication, queries and
JSON rendering, no network. SQL runs on the same connection.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fs_rooms_bench \\
        .venv/bin/python bench/rooms_bench.py [--workspace bench] [--runs 21]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from rooms.models import Contact, RoomTotals, Step  # noqa: E402
from workspaces.models import Workspace  # noqa: E402
from workspaces.services import api_key_create  # noqa: E402

PAGE_SIZE = 100
BATCH = {"visit": 20, "view": 40, "engagement": 40}

# The page's ids come first from an index, exactly as the API reads them.
LIST_IDS = {
    "createdAt": """
        SELECT id, row_number() OVER () AS n FROM (
            SELECT id FROM rooms_room WHERE workspace_id = %(workspace)s AND NOT is_template
            ORDER BY created_at DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s) ids""",
    "totalViews": """
        SELECT room_id AS id, row_number() OVER () AS n FROM (
            SELECT room_id FROM rooms_roomtotals
            WHERE workspace_id = %(workspace)s AND NOT is_template
            ORDER BY total_views DESC, room_id DESC LIMIT %(limit)s OFFSET %(offset)s) ids""",
}

ROOM_JSON = """json_build_object(
    'id', r.id, 'title', r.title, 'userId', r.owner_id::text, 'companyId', r.company_id,
    'createdAt', to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'updatedAt', to_char(r.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'totalEngagements', t.total_engagements,
    'lastEngagedAt',
        to_char(t.last_engaged_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'totalViews', t.total_views, 'totalUniqueViews', t.total_unique_views,
    'engagements', json_build_object(
        'clicks', t.engagement_click, 'comments', t.engagement_comment,
        'downloads', t.engagement_download, 'reactions', t.engagement_reaction,
        'shares', t.engagement_share, 'views', t.engagement_view,
        'tasksCompleted', t.engagement_task_completed),
    'coverTitle', nullif(r.cover_title, ''), 'coverDescription', nullif(r.cover_description, ''),
    'coverDisabled', r.cover_disabled, 'themeColor', nullif(r.theme_color, ''),
    'navColor', nullif(r.nav_color, ''))"""

LIST_SQL = """
WITH page AS ({ids})
SELECT json_build_object(
    'results', coalesce(json_agg({room} ORDER BY page.n), '[]'),
    'page', %(page)s, 'limit', %(limit)s,
    'total', (SELECT count(*) FROM rooms_room
              WHERE workspace_id = %(workspace)s AND NOT is_template))::text
FROM page JOIN rooms_room r ON r.id = page.id JOIN rooms_roomtotals t ON t.room_id = r.id
"""

DETAIL_SQL = f"""
SELECT ({ROOM_JSON}::jsonb || jsonb_build_object(
    'description', nullif(r.description, ''), 'statusId', r.status_id, 'labelId', r.label_id,
    'hsDealId', nullif(r.hs_deal_id, ''), 'sfOpportunityId', nullif(r.sf_opportunity_id, ''),
    'attioDealId', nullif(r.attio_deal_id, ''), 'isTemplate', r.is_template,
    'email', c.email, 'slug', r.slug))::text
FROM rooms_room r JOIN rooms_roomtotals t ON t.room_id = r.id
LEFT JOIN rooms_contact c ON c.id = r.primary_contact_id
WHERE r.id = %(room)s AND r.workspace_id = %(workspace)s
"""

ANALYTICS_SQL = """
WITH visits AS (
    SELECT user_id, contact_id, max(at) AS last_seen, count(*) AS view_count
    FROM rooms_visit WHERE room_id = %(room)s GROUP BY user_id, contact_id
), activity AS (
    SELECT step_id, action_id, user_id, contact_id, duration_in_seconds AS seconds,
           times_viewed AS times, NULL::varchar AS type, NULL::timestamptz AS created_at,
           NULL::bigint AS id
    FROM rooms_viewership WHERE room_id = %(room)s
    UNION ALL
    SELECT step_id, action_id, user_id, contact_id, 0, 0, type, created_at, id
    FROM rooms_engagement WHERE room_id = %(room)s AND type <> 'VIEW'
), entries AS (
    SELECT step_id, action_id, user_id, contact_id, sum(seconds) AS seconds,
           sum(times) AS times,
           coalesce(json_agg(json_build_object('type', type, 'createdAt', created_at)
                             ORDER BY created_at, id) FILTER (WHERE type IS NOT NULL),
                    '[]') AS engagements
    FROM activity GROUP BY step_id, action_id, user_id, contact_id
), viewership AS (
    SELECT coalesce(e.step_id, e.action_id) AS target_id,
           json_agg(json_build_object(
               'user', json_build_object(
                   'email', coalesce(u.email, c.email), 'name', coalesce(u.full_name, c.name),
                   'lastSeen', vs.last_seen, 'viewCount', coalesce(vs.view_count, 0)),
               'durationInSeconds', e.seconds, 'timesViewed', e.times,
               'engagements', e.engagements
           ) ORDER BY coalesce(u.email, c.email)) AS entries
    FROM entries e
    LEFT JOIN workspaces_user u ON u.id = e.user_id
    LEFT JOIN rooms_contact c ON c.id = e.contact_id
    LEFT JOIN visits vs ON vs.user_id IS NOT DISTINCT FROM e.user_id
                       AND vs.contact_id IS NOT DISTINCT FROM e.contact_id
    GROUP BY 1
), people AS (
    SELECT 0 AS rank, 0 AS position, NULL::timestamptz AS seen, owner_id AS user_id,
           NULL::uuid AS contact_id
    FROM rooms_room WHERE id = %(room)s AND owner_id IS NOT NULL
    UNION ALL
    SELECT 1, 0, NULL, NULL, primary_contact_id
    FROM rooms_room WHERE id = %(room)s AND primary_contact_id IS NOT NULL
    UNION ALL
    SELECT 2, row_number() OVER (ORDER BY s.position, a.position, aa.id), NULL, aa.user_id,
           aa.contact_id
    FROM rooms_actionassignee aa JOIN rooms_action a ON a.id = aa.action_id
    JOIN rooms_section s ON s.id = a.section_id WHERE s.room_id = %(room)s
    UNION ALL
    SELECT 3, 0, last_seen, user_id, contact_id FROM visits
), assignees AS (
    SELECT DISTINCT ON (lower(coalesce(u.email, c.email))) p.rank, p.position, p.seen,
           json_build_object(
               'email', coalesce(u.email, c.email), 'name', coalesce(u.full_name, c.name),
               'title', coalesce(u.job_title, c.job_title), 'lastSeen', vs.last_seen,
               'viewCount', coalesce(vs.view_count, 0)) AS person
    FROM people p
    LEFT JOIN workspaces_user u ON u.id = p.user_id
    LEFT JOIN rooms_contact c ON c.id = p.contact_id
    LEFT JOIN visits vs ON vs.user_id IS NOT DISTINCT FROM p.user_id
                       AND vs.contact_id IS NOT DISTINCT FROM p.contact_id
    ORDER BY lower(coalesce(u.email, c.email)), p.rank, p.position, p.seen DESC
)
SELECT json_build_object(
    'title', r.title,
    'progressPercentage', (
        SELECT coalesce(round(100.0 * count(*) FILTER (WHERE a.status = 'done')
                              / nullif(count(*) FILTER (WHERE a.status <> 'cancelled'), 0), 2), 0)
        FROM rooms_action a JOIN rooms_section s ON s.id = a.section_id
        WHERE s.room_id = r.id),
    'internalCompany', json_build_object(
        'type', 'internal', 'name', coalesce(nullif(w.internal_company_name, ''), w.name)),
    'assignees', (SELECT json_agg(person ORDER BY rank, position, seen DESC) FROM assignees),
    'sections', (
        SELECT json_agg(json_build_object(
            'id', s.id, 'title', s.title, 'isCompleted', s.is_completed,
            'isVisibleToExternal', s.access <> 'hidden',
            'steps', (
                SELECT coalesce(json_agg(json_build_object(
                    'id', st.id, 'title', st.title, 'isVisibleToExternal', st.access <> 'hidden',
                    'viewership', coalesce(vw.entries, '[]')
                ) ORDER BY st.position, st.created_at, st.id), '[]')
                FROM rooms_step st LEFT JOIN viewership vw ON vw.target_id = st.id
                WHERE st.section_id = s.id),
            'actions', (
                SELECT coalesce(json_agg(json_build_object(
                    'id', a.id, 'title', a.title, 'status', a.status,
                    'description', a.description, 'internal', a.internal,
                    'dueDate', a.due_date,
                    'isOverdue', a.due_date < %(now)s AND a.status NOT IN ('done', 'cancelled'),
                    'isVisibleToExternal', a.access <> 'hidden', 'actionType', a.action_type,
                    'assignees', (
                        SELECT coalesce(json_agg(json_build_object(
                            'type', CASE WHEN aa.user_id IS NULL THEN 'contact' ELSE 'user' END,
                            'user', json_build_object(
                                'email', coalesce(u.email, c.email),
                                'name', coalesce(u.full_name, c.name))
                        ) ORDER BY aa.id), '[]')
                        FROM rooms_actionassignee aa
                        LEFT JOIN workspaces_user u ON u.id = aa.user_id
                        LEFT JOIN rooms_contact c ON c.id = aa.contact_id
                        WHERE aa.action_id = a.id),
                    'viewership', coalesce(vw.entries, '[]')
                ) ORDER BY a.position, a.created_at, a.id), '[]')
                FROM rooms_action a LEFT JOIN viewership vw ON vw.target_id = a.id
                WHERE a.section_id = s.id)
        ) ORDER BY s.position, s.created_at, s.id)
        FROM rooms_section s WHERE s.room_id = r.id)
)::text
FROM rooms_room r JOIN workspaces_workspace w ON w.id = r.workspace_id
WHERE r.id = %(room)s
"""

RAW_VISITS = """INSERT INTO rooms_visit (workspace_id, room_id, contact_id, at, client_id)
SELECT %(workspace)s, %(room)s, contact_id, at, client_id
FROM unnest(%(contacts)s::uuid[], %(times)s::timestamptz[], %(ids)s::varchar[])
     AS v(contact_id, at, client_id)"""
RAW_ENGAGEMENTS = """INSERT INTO rooms_engagement
    (workspace_id, room_id, step_id, contact_id, type, created_at, client_id)
SELECT %(workspace)s, %(room)s, %(step)s, contact_id, type, at, client_id
FROM unnest(%(contacts)s::uuid[], %(types)s::varchar[], %(times)s::timestamptz[],
            %(ids)s::varchar[]) AS e(contact_id, type, at, client_id)"""
RAW_VIEWERSHIP = """INSERT INTO rooms_viewership
    (workspace_id, room_id, step_id, contact_id, duration_in_seconds, times_viewed)
SELECT %(workspace)s, %(room)s, %(step)s, contact_id, sum(seconds), count(*)
FROM unnest(%(contacts)s::uuid[], %(seconds)s::int[]) AS v(contact_id, seconds)
GROUP BY contact_id
ON CONFLICT (step_id, contact_id) DO UPDATE SET
    duration_in_seconds = rooms_viewership.duration_in_seconds + EXCLUDED.duration_in_seconds,
    times_viewed = rooms_viewership.times_viewed + EXCLUDED.times_viewed"""


def alternate(first, second, runs: int) -> tuple[float, float]:
    """Medians in ms of ``first`` and ``second`` run alternately ``runs`` times each, after one
    warm-up pair."""
    first(), second()
    timings: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for function, sink in ((first, timings[0]), (second, timings[1])):
            started = time.perf_counter()
            function()
            sink.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings[0]), statistics.median(timings[1])


def get(client: Client, path: str, key: str):
    def call():
        response = client.get(path, HTTP_X_FLOWLA_API_KEY=key)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}: {response.content[:300]}")
        return response

    return call


def sql(query: str, params: dict):
    def call():
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchone()[0]

    return call


class Ingestion:
    """Batches of new events for one room: through the API, and as raw INSERTs."""

    def __init__(self, client: Client, key: str, workspace: Workspace, room_id):
        self.client, self.key, self.workspace, self.room_id = client, key, workspace, room_id
        self.step_id = Step.objects.filter(section__room_id=room_id).values_list("id", flat=True)[0]
        self.contacts = list(
            Contact.objects.for_workspace(workspace)
            .order_by("email")[:20]
            .values_list("id", "email")
        )

    def _ids(self, kind: str) -> list[str]:
        return [f"bench-{kind}-{uuid.uuid4().hex}" for _ in range(BATCH[kind])]

    def _viewer(self, n: int) -> tuple:
        return self.contacts[n % len(self.contacts)]

    def api(self) -> None:
        at = timezone.now().isoformat()
        events = [
            {"id": event_id, "kind": "visit", "viewer": {"email": self._viewer(n)[1]}, "at": at}
            for n, event_id in enumerate(self._ids("visit"))
        ]
        target = {"stepId": str(self.step_id)}
        events += [
            {"id": event_id, "kind": "view", "viewer": {"email": self._viewer(n)[1]}, "at": at}
            | target
            | {"durationInSeconds": 30}
            for n, event_id in enumerate(self._ids("view"))
        ]
        events += [
            {"id": event_id, "kind": "engagement", "viewer": {"email": self._viewer(n)[1]}}
            | {"at": at, "type": "CLICK"}
            | target
            for n, event_id in enumerate(self._ids("engagement"))
        ]
        response = self.client.post(
            f"/api/v2/rooms/{self.room_id}/activity",
            {"events": events},
            content_type="application/json",
            HTTP_X_FLOWLA_API_KEY=self.key,
        )
        if response.status_code != 200:
            raise SystemExit(f"activity answered {response.status_code}: {response.content}")

    def raw(self) -> None:
        now = timezone.now()
        common = {"workspace": self.workspace.pk, "room": self.room_id, "step": self.step_id}
        visits, views, engagements = self._ids("visit"), self._ids("view"), self._ids("engagement")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                RAW_VISITS,
                common
                | {
                    "contacts": [self._viewer(n)[0] for n in range(len(visits))],
                    "times": [now] * len(visits),
                    "ids": visits,
                },
            )
            ids = views + engagements
            cursor.execute(
                RAW_ENGAGEMENTS,
                common
                | {
                    "contacts": [self._viewer(n)[0] for n in range(len(ids))],
                    "types": ["VIEW"] * len(views) + ["CLICK"] * len(engagements),
                    "times": [now] * len(ids),
                    "ids": ids,
                },
            )
            cursor.execute(
                RAW_VIEWERSHIP,
                common
                | {
                    "contacts": [self._viewer(n)[0] for n in range(len(views))],
                    "seconds": [30] * len(views),
                },
            )


def cases(workspace: Workspace, key: str) -> list[tuple[str, object, object]]:
    client = Client(HTTP_HOST="127.0.0.1")
    rooms = RoomTotals.objects.filter(workspace=workspace, is_template=False)
    by_engagements = rooms.order_by("total_engagements", "room_id").values_list(
        "room_id", flat=True
    )
    count = rooms.count()
    typical, largest = by_engagements[count // 2], by_engagements.reverse()[0]
    listed = []
    for sort_by in ("createdAt", "totalViews"):
        for page in (1, 50, 100):
            params = {"workspace": workspace.pk, "page": page, "limit": PAGE_SIZE}
            params["offset"] = (page - 1) * PAGE_SIZE
            path = f"/api/v2/rooms?limit={PAGE_SIZE}&page={page}&sortBy={sort_by}"
            query = LIST_SQL.format(ids=LIST_IDS[sort_by], room=ROOM_JSON)
            listed.append((f"GET {path}", get(client, path, key), sql(query, params)))
    ingestion = Ingestion(client, key, workspace, typical)
    now = timezone.now()
    return [
        *listed,
        (
            "GET /api/v2/rooms/{typical}",
            get(client, f"/api/v2/rooms/{typical}", key),
            sql(DETAIL_SQL, {"room": typical, "workspace": workspace.pk}),
        ),
        (
            "GET /api/v2/rooms/{typical}/analytics",
            get(client, f"/api/v2/rooms/{typical}/analytics", key),
            sql(ANALYTICS_SQL, {"room": typical, "now": now}),
        ),
        (
            "GET /api/v2/rooms/{largest}/analytics",
            get(client, f"/api/v2/rooms/{largest}/analytics", key),
            sql(ANALYTICS_SQL, {"room": largest, "now": now}),
        ),
        ("POST /api/v2/rooms/{typical}/activity (100 events)", ingestion.api, ingestion.raw),
        # What every request above pays before its own work (authentication, throttle,
        # middleware, transaction), against the cheapest statement.
        (
            "GET /api/whoami (fixed cost per request)",
            get(client, "/api/whoami", key),
            sql("SELECT 1", {}),
        ),
    ]


def run(*, workspace_slug: str, runs: int, out=sys.stdout) -> list[tuple[str, float, float]]:
    """Print the table; returns (label, API ms, SQL ms) per case."""
    workspace = Workspace.objects.get(slug=workspace_slug)
    key = api_key_create(workspace=workspace, name="bench").plaintext
    rooms = RoomTotals.objects.filter(workspace=workspace).count()
    print(
        f"workspace {workspace.slug}: {rooms:,} rooms; medians of {runs} alternating pairs\n",
        file=out,
    )
    print(f"| {'request':<58} | API ms | SQL ms | ratio |", file=out)
    print(f"|{'-' * 60}|--------|--------|-------|", file=out)
    results = []
    for label, api_call, sql_call in cases(workspace, key):
        api, database = alternate(api_call, sql_call, runs)
        results.append((label, api, database))
        print(
            f"| {label:<58} | {api:>6.1f} | {database:>6.1f} | {api / database:>5.2f} |", file=out
        )
    label, api, database = results[-2]
    events = sum(BATCH.values())
    print(
        f"\ningestion: {events / api * 1000:,.0f} events/s through the API, "
        f"{events / database * 1000:,.0f} events/s raw INSERT",
        file=out,
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default="bench")
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    settings.DEBUG = False  # a server's settings: no query log
    run(workspace_slug=args.workspace, runs=args.runs)


if __name__ == "__main__":
    main()
