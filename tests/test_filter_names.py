"""A list's filter has one name and one set of fields in the schema and in its service."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil

import strawberry

import accessplane.schema
import accessplane.services


def _classes(package: object) -> dict[str, type]:
    found: dict[str, type] = {}
    for module in pkgutil.iter_modules(package.__path__):  # type: ignore[attr-defined]
        loaded = importlib.import_module(f"{package.__name__}.{module.name}")  # type: ignore[attr-defined]
        for name, value in vars(loaded).items():
            if (
                name.endswith("Filter")
                and isinstance(value, type)
                and value.__module__ == loaded.__name__
            ):
                found[name] = value
    return found


def test_every_schema_filter_has_a_service_filter_of_the_same_name_and_fields() -> None:
    schema_filters = _classes(accessplane.schema)
    service_filters = _classes(accessplane.services)
    assert len(schema_filters) >= 7

    for name, input_type in schema_filters.items():
        assert name in service_filters, f"services name no {name}"
        schema_fields = {
            f.python_name
            for f in strawberry.types.base.get_object_definition(input_type, strict=True).fields
        }
        service_fields = {f.name for f in dataclasses.fields(service_filters[name])}
        assert schema_fields == service_fields, name
