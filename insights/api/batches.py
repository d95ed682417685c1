"""Batches of items of several kinds, as the ingestion endpoints take them.

Each item names its ``kind``; the serializer registered for that kind validates it, so an error
points at the item (``events.3.at``). The OpenAPI schema shows the item as a ``oneOf`` with
``kind`` as the discriminator.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from rest_framework import serializers
from rest_framework.settings import api_settings

MAX_BATCH = 1000


class InlineChoiceField(serializers.ChoiceField):
    """A choice documented in place (an enum component per field name would collide with
    other apps' fields of the same name)."""


class KindField(InlineChoiceField):
    """The ``kind`` of one item type: a single allowed value."""

    def __init__(self, kind: str, **kwargs):
        super().__init__(choices=[kind], **kwargs)


class ItemOfKindSerializer(serializers.Serializer):
    """Dispatches an item to ``kinds[item["kind"]]``; subclasses set ``kinds``."""

    kinds: dict[str, type[serializers.Serializer]] = {}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY: ["Expected an object."]}
            )
        kind = data.get("kind")
        if not isinstance(kind, str) or kind not in self.kinds:
            raise serializers.ValidationError(
                {"kind": [f"Must be one of: {', '.join(self.kinds)}."]}
            )
        item = self.kinds[kind](data=data)
        item.is_valid(raise_exception=True)
        return item.validated_data


class BatchSerializer(serializers.Serializer):
    """``{"events": [...]}``: at most MAX_BATCH items, client ids distinct within the batch.
    Subclasses set ``events`` to ``SomeItemSerializer(many=True, max_length=MAX_BATCH)``."""

    def validate_events(self, items: list[dict]) -> list[dict]:
        first_index: dict[str, int] = {}
        for index, item in enumerate(items):
            if item["id"] in first_index:
                raise serializers.ValidationError(
                    {index: {"id": [f"Repeats the id of item {first_index[item['id']]}."]}}
                )
            first_index[item["id"]] = index
        return items


class InlineChoiceFieldScheme(OpenApiSerializerFieldExtension):
    target_class = InlineChoiceField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "enum": list(self.target.choices)}


class ItemOfKindScheme(OpenApiSerializerExtension):
    target_class = ItemOfKindSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        refs = {
            kind: auto_schema.resolve_serializer(serializer, direction).ref["$ref"]
            for kind, serializer in self.target.kinds.items()
        }
        return {
            "oneOf": [{"$ref": ref} for ref in refs.values()],
            "discriminator": {"propertyName": "kind", "mapping": refs},
        }
