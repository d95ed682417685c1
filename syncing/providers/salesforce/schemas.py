"""Shapes of Salesforce's REST JSON (Opportunity records of a SOQL query), checked at the edge.

Field names are Salesforce's own. Relationship fields arrive as nested objects (``Owner``),
and a subquery as a nested query result (``OpportunityContactRoles``), null when empty.
Email fields are validated by Salesforce on save, so a malformed one is a malformed record.
"""

from __future__ import annotations

from rest_framework import serializers

from syncing.validation import Text

# 15-character (case-sensitive) or 18-character (case-safe) record ids.
ID_PATTERN = r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$"


class Owner(serializers.Serializer):
    Email = serializers.EmailField(required=False, allow_null=True, allow_blank=True)


class Contact(serializers.Serializer):
    Email = serializers.EmailField(required=False, allow_null=True, allow_blank=True)


class ContactRole(serializers.Serializer):
    Contact = Contact(required=False, allow_null=True)


class ContactRoles(serializers.Serializer):
    records = ContactRole(many=True)


class Opportunity(serializers.Serializer):
    Id = serializers.RegexField(ID_PATTERN)
    Name = Text(allow_blank=True)
    StageName = Text(required=False, allow_null=True, allow_blank=True)
    Amount = serializers.DecimalField(
        max_digits=18, decimal_places=2, required=False, allow_null=True
    )
    # Only in multi-currency orgs.
    CurrencyIsoCode = Text(required=False, allow_null=True, allow_blank=True, max_length=8)
    CloseDate = serializers.DateField(required=False, allow_null=True)
    Owner = Owner(required=False, allow_null=True)
    SystemModstamp = serializers.DateTimeField()
    IsDeleted = serializers.BooleanField(required=False, default=False)
    OpportunityContactRoles = ContactRoles(required=False, allow_null=True)
