"""PATCH bodies: a field left out stays as it is, and null is refused where a value must exist.

Why: with ``str | None = None`` pydantic cannot tell "not sent" from "sent as null", and a
null then reached columns that cannot hold it (500) or was stored where the row could no
longer be read. Fields are typed ``X | SkipJsonSchema[None]`` so the OpenAPI schema says they
are not nullable, and the validator answers an explicit null with a 422 naming the fields.
"""

from __future__ import annotations

from typing import ClassVar, Self

from pydantic import BaseModel, ConfigDict, model_validator


class Patch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Fields that may be set to null on purpose (e.g. clearing an expiry date).
    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_null(self) -> Self:
        sent_null = sorted(
            f for f in self.model_fields_set if getattr(self, f) is None and f not in self.NULLABLE
        )
        if sent_null:
            raise ValueError(
                f"{', '.join(sent_null)} cannot be null; leave a field out to keep its value."
            )
        return self
