"""Check a fake's answer against botocore's output shape: fakes bypass botocore's parser, so nothing
else stops them from inventing a member or a status AWS never returns."""

from __future__ import annotations

from typing import Any

import botocore.session

_SESSION = botocore.session.get_session()


def output_shape(service: str, operation: str) -> Any:
    return _SESSION.get_service_model(service).operation_model(operation).output_shape


def violations(shape: Any, value: Any, path: str = "$") -> list[str]:
    """Members the shape does not define and strings outside the shape's enum, with their path."""
    kind = shape.type_name
    if kind == "structure":
        found = []
        for name, member in value.items():
            if name == "ResponseMetadata":
                continue
            if name not in shape.members:
                found.append(f"{path}.{name}: no such member of {shape.name}")
            else:
                found += violations(shape.members[name], member, f"{path}.{name}")
        return found
    if kind == "list":
        return [v for n, item in enumerate(value) for v in violations(shape.member, item, f"{path}[{n}]")]
    if kind == "map":
        return [v for key, item in value.items() for v in violations(shape.value, item, f"{path}.{key}")]
    if kind == "string" and shape.enum and value not in shape.enum:
        return [f"{path}: {value!r} is not one of {shape.name} {shape.enum}"]
    return []


def enum(service: str, shape_name: str) -> set[str]:
    return set(_SESSION.get_service_model(service).shape_for(shape_name).enum)


def assert_matches(service: str, operation: str, response: dict[str, Any]) -> None:
    found = violations(output_shape(service, operation), response)
    assert not found, f"{service} {operation} answered outside its output shape: {found}"
