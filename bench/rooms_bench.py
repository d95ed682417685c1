"""Rooms API latency against one hand-written SQL query computing the same numbers.

For ``GET /api/v2/rooms?limit=100&sortBy=totalViews`` and for the analytics of the largest room
(most engagements) of the workspace made by ``manage.py bench_rooms_generate``, prints the median
latency of the endpoint (through Django's test client: the full middleware, authentication,
queries and JSON rendering, no network) beside the median time of one SQL query that returns the
same numbers as JSON text, and their ratio.

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/fs_rooms_bench \\
        .venv/bin/python bench/rooms_bench.py [--workspace bench] [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from rooms.models import Room  # noqa: E402
from workspaces.models import Workspace  # noqa: E402
from workspaces.services import api_key_create  # noqa: E402

LIST_SQL = """
WITH visits AS (
    SELECT room_id, count(*) AS total_views,
           count(DISTINCT user_id) + count(DISTINCT contact_id) AS total_unique_views,
           max(at) AS last_visit
    FROM rooms_visit WHERE workspace_id = %(workspace)s GROUP BY room_id
), page AS (
    SELECT r.id, r.title, r.owner_id, r.company_id, r.created_at, r.updated_at, r.cover_title,
           r.cover_description, r.cover_disabled, r.theme_color, r.nav_color,
           coalesce(v.total_views, 0) AS total_views,
           coalesce(v.total_unique_views, 0) AS total_unique_views,
           v.last_visit, count(*) OVER () AS total
    FROM rooms_room r LEFT JOIN visits v ON v.room_id = r.id
    WHERE r.workspace_id = %(workspace)s AND NOT r.is_template
    ORDER BY total_views DESC, r.id DESC
    LIMIT 100
)
SELECT json_build_object(
    'total', max(page.total),
    'results', json_agg(json_build_object(
        'id', page.id, 'title', page.title, 'userId', page.owner_id,
        'companyId', page.company_id, 'createdAt', page.created_at,
        'updatedAt', page.updated_at, 'totalViews', page.total_views,
        'totalUniqueViews', page.total_unique_views, 'totalEngagements', e.total,
        'lastEngagedAt', greatest(e.last_engagement, page.last_visit),
        'engagements', json_build_object(
            'clicks', e.clicks, 'comments', e.comments, 'downloads', e.downloads,
            'reactions', e.reactions, 'shares', e.shares, 'views', e.views,
            'tasksCompleted', e.tasks_completed),
        'coverTitle', page.cover_title, 'coverDescription', page.cover_description,
        'coverDisabled', page.cover_disabled, 'themeColor', page.theme_color,
        'navColor', page.nav_color
    ) ORDER BY page.total_views DESC, page.id DESC))::text
FROM page LEFT JOIN LATERAL (
    SELECT count(*) AS total, max(created_at) AS last_engagement,
           count(*) FILTER (WHERE type = 'CLICK') AS clicks,
           count(*) FILTER (WHERE type = 'COMMENT') AS comments,
           count(*) FILTER (WHERE type = 'DOWNLOAD') AS downloads,
           count(*) FILTER (WHERE type = 'REACTION') AS reactions,
           count(*) FILTER (WHERE type = 'SHARE') AS shares,
           count(*) FILTER (WHERE type = 'VIEW') AS views,
           count(*) FILTER (WHERE type = 'TASK_COMPLETED') AS tasks_completed
    FROM rooms_engagement WHERE room_id = page.id
) e ON true
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
    FROM rooms_engagement WHERE room_id = %(room)s
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
                            'type', 'user', 'user', json_build_object(
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


def median_ms(function, runs: int) -> float:
    function()  # warm caches and connections
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def endpoint(client: Client, path: str, key: str):
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


def counted(api_call) -> tuple[bytes, int]:
    """The response body and the number of SQL statements the request ran."""
    statements = []

    def count(execute, *args):
        statements.append(args[0])
        return execute(*args)

    with connection.execute_wrapper(count):
        body = api_call().content
    return body, len(statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default="bench")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    workspace = Workspace.objects.get(slug=args.workspace)
    key = api_key_create(workspace=workspace, name="bench").plaintext
    largest = (
        Room.objects.for_workspace(workspace)
        .annotate(engagement_count=Count("engagements"))
        .order_by("-engagement_count")
        .first()
    )
    client = Client(HTTP_HOST="127.0.0.1")
    cases = [
        (
            "GET /api/v2/rooms?limit=100&sortBy=totalViews",
            endpoint(client, "/api/v2/rooms?limit=100&sortBy=totalViews", key),
            sql(LIST_SQL, {"workspace": workspace.pk}),
        ),
        (
            f"GET /api/v2/rooms/{{largest}}/analytics ({largest.engagement_count:,} engagements)",
            endpoint(client, f"/api/v2/rooms/{largest.pk}/analytics", key),
            sql(ANALYTICS_SQL, {"room": largest.pk, "now": timezone.now()}),
        ),
    ]
    print(f"workspace {workspace.slug}: {Room.objects.for_workspace(workspace).count():,} rooms")
    print(f"median of {args.runs} runs after one warm-up\n")
    header = f"| {'request':<68} | queries | body KB | API ms | SQL ms | ratio |"
    print(header)
    print("|" + "|".join("-" * (len(cell) + 0) for cell in header.split("|")[1:-1]) + "|")
    for label, api_call, sql_call in cases:
        body, queries = counted(api_call)
        api = median_ms(api_call, args.runs)
        database = median_ms(sql_call, args.runs)
        print(
            f"| {label:<68} | {queries:>7} | {len(body) / 1024:>7.0f} | {api:>6.1f} "
            f"| {database:>6.1f} | {api / database:>5.1f} |"
        )


if __name__ == "__main__":
    main()
