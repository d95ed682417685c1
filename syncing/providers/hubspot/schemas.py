"""Shapes of HubSpot's CRM JSON (v3 objects, owners, OAuth v1 token), checked at the edge.

HubSpot sends every property as a string, an empty string or null; empty means "not set".
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated

import msgspec
from rest_framework import serializers

from syncing.validation import Schema, Text

# HubSpot sends properties as text; a number is read as its text (as DRF's CharField did).
Loose = str | int | float | None
DealId = Annotated[str, msgspec.Meta(pattern=r"^[0-9]+$")] | Annotated[int, msgspec.Meta(ge=0)]
CURRENCY_MAX = 8
# CrmDeal.amount: 18 digits, 2 of them decimals.
WHOLE_DIGITS = 16
CENTS = Decimal("0.01")


class DealProperties(Schema):
    hs_lastmodifieddate: datetime
    dealname: Loose = None
    dealstage: Loose = None
    amount: Loose = None
    deal_currency_code: Loose = None
    closedate: str | int | None = None
    hubspot_owner_id: Loose = None


class Deal(Schema):
    """A deal of a search, list or batch read. Compiled (msgspec): a pull checks every deal of
    every page, which DRF serializers did field object by field object. After the check,
    ``amount`` is text in cents ("1200.50") and ``closedate`` an ISO date, or None; blank
    properties are None; times are UTC."""

    id: DealId
    properties: DealProperties
    archived: bool = False
    archivedAt: datetime | None = None

    def __post_init__(self) -> None:
        self.id = str(self.id)
        props = self.properties
        for name in ("dealname", "dealstage", "deal_currency_code", "hubspot_owner_id"):
            value = getattr(props, name)
            setattr(props, name, None if value is None else str(value))
        if len(props.deal_currency_code or "") > CURRENCY_MAX:
            raise ValueError(
                f"properties.deal_currency_code: Ensure this field has no more than "
                f"{CURRENCY_MAX} characters."
            )
        props.amount = _amount(props.amount)
        props.closedate = _close_date(props.closedate)
        props.hs_lastmodifieddate = _utc(props.hs_lastmodifieddate)
        self.archivedAt = _utc(self.archivedAt)


def _amount(value: str | int | float | None) -> str | None:
    """A currency amount rounded to cents (CrmDeal keeps two decimals); blank is no amount."""
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise ValueError("properties.amount: A valid number is required.")
    if amount.adjusted() < WHOLE_DIGITS:  # (quantizing a far larger one would overflow)
        amount = amount.quantize(CENTS, ROUND_HALF_UP)
    if amount.adjusted() >= WHOLE_DIGITS:
        raise ValueError(
            f"properties.amount: Ensure that there are no more than {WHOLE_DIGITS} digits "
            "before the decimal point."
        )
    return str(amount)


def _close_date(value: str | int | None) -> str | None:
    """HubSpot date properties: midnight UTC as an ISO datetime, a plain date, or epoch ms."""
    if value is None or value == "":
        return None
    text = str(value)
    try:
        if text.isdigit():
            return datetime.fromtimestamp(int(text) / 1000, UTC).date().isoformat()
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return _utc(moment).date().isoformat()
    except (ValueError, OverflowError, OSError):
        raise ValueError(f"properties.closedate: Not a date: {text!r}.") from None


def _utc(moment: datetime | None) -> datetime | None:
    """In UTC, as DRF gave them (a time without an offset is read as UTC, TIME_ZONE)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Owner(serializers.Serializer):
    id = Text()
    email = serializers.EmailField(required=False, allow_null=True, allow_blank=True)


class Contact(serializers.Serializer):
    id = Text()
    properties = serializers.DictField()


class Token(serializers.Serializer):
    access_token = Text()
    expires_in = serializers.IntegerField(min_value=1)
