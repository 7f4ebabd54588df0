"""The base of the generated request models (``vocab/<family>.py``).

One model serves both sides: the CRD schema (camelCase aliases, descriptions, bounds, CEL
rules: what ``kubectl explain`` shows and the API server enforces) and the wire (``to_wire``
dumps the API's own JSON names, which are the Python names). Unknown keys are ignored, as for
every CRD model: the API server has already pruned what the schema does not know.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
)


def camel(name: str) -> str:
    """The CRD's name for a JSON name: ``log_export_path`` -> ``logExportPath``,
    ``i18n_description`` -> ``i18nDescription`` (a letter after a digit stays lower case, unlike
    pydantic's ``to_camel``); names already in camelCase are kept."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class SdkModel(BaseModel):
    """A request model generated from the official SDK."""

    model_config = ConfigDict(
        alias_generator=camel,
        populate_by_name=True,
        extra="ignore",
        protected_namespaces=(),
    )

    def to_wire(self) -> dict[str, Any]:
        """The body as the API takes it: its JSON names, unset fields left out."""
        return self.model_dump(mode="json", by_alias=False, exclude_none=True)


class KeyedModel(SdkModel):
    """A request model some of whose JSON names are no Python names (the pool and network
    APIs' ``os.modelarts/name`` labels): the field takes the SDK's attribute name and
    ``wire_names`` maps it back, so the wire dump (``by_alias=False``) carries the JSON name."""

    wire_names: ClassVar[dict[str, str]] = {}

    @model_serializer(mode="wrap")
    def _wire_keys(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if info.by_alias:
            return data
        return {self.wire_names.get(key, key): value for key, value in data.items()}


def spelled(*canonical: str) -> Callable[[str], str]:
    """An enum the cloud accepts in any case (its examples write ``evs``, ``internal``): the
    value is sent in the documented spelling."""
    by_lower = {value.lower(): value for value in canonical}

    def normalise(value: str) -> str:
        return by_lower.get(value.lower(), value)

    return normalise
