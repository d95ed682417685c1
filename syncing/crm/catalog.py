"""What a CRM's own lists say, read when the connection is tested (and during syncs, see
``crm_catalog_refresh``) and kept on it
(``Connection.crm_catalog``): its pipelines and stages (deal-room rules pick from them) and the
write-back fields it lacks (the connection page reports them; "Create fields" creates them
where the API allows).

    {"stages": [{"pipeline_id", "pipeline_label", "id", "label"}, ...],
     "missingFields": {"total_views": "flowsync_total_views", ...},
     "readAt": "2026-12-04T17:30:00.000Z"}
"""

from __future__ import annotations

import logging
from dataclasses import asdict

from django.utils import timezone

from config.formats import iso_utc
from syncing.crm.types import CrmClient, Stage
from syncing.crm.writeback import write_back_properties
from syncing.errors import RecordError, UpstreamError
from syncing.models import Connection

logger = logging.getLogger(__name__)


def crm_catalog_read(*, connection: Connection, client: CrmClient) -> str:
    """Read the CRM's stages and deal fields, keep them on the connection, and say what was
    found in our own words."""
    stages = client.stages()
    present = client.deal_field_names()
    wanted = write_back_properties(connection, client)
    missing = {field: name for field, name in wanted.items() if name and name not in present}
    connection.crm_catalog = {
        "stages": [asdict(stage) for stage in stages],
        "missingFields": missing,
        "readAt": iso_utc(timezone.now()),
    }
    Connection.objects.filter(pk=connection.pk).update(crm_catalog=connection.crm_catalog)
    pipelines = len({stage.pipeline_id for stage in stages})
    found = f"{len(stages)} stages in {pipelines} pipeline{'s' if pipelines != 1 else ''}"
    if not missing:
        return f"{found}; all {len(wanted)} write-back fields exist"
    return f"{found}; write-back fields missing: {', '.join(missing.values())}"


def crm_catalog_refresh(*, connection: Connection, client: CrmClient) -> None:
    """The same read during a sync run (Salesforce's every pull, whose describe it reuses;
    HubSpot's and Attio's full refreshes). The run is about deals: a failure here keeps the
    catalog as it was and the run goes on."""
    try:
        crm_catalog_read(connection=connection, client=client)
    except (UpstreamError, RecordError):
        logger.info("CRM catalog of connection %s not read during the run", connection.pk)


def crm_fields_create(*, connection: Connection, client: CrmClient) -> str:
    """Create the write-back fields the last test found missing, then read the catalog
    again (so the page says what now exists)."""
    missing = connection.crm_catalog.get("missingFields") or {}
    if missing:
        client.deal_fields_create(missing)
    return crm_catalog_read(connection=connection, client=client)


def crm_stages(connection: Connection) -> list[Stage]:
    return [Stage(**stage) for stage in connection.crm_catalog.get("stages") or []]


def can_create_fields(client: CrmClient) -> bool:
    return callable(getattr(client, "deal_fields_create", None))
