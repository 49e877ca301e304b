"""An edit is a recipe: a list of operations applied in order to a base version.

Coordinates are pixels of the image as it stands when the operation runs (after the crops,
rotations and resizes before it), so the browser preview and the server renderer read a
recipe the same way. Bounds keep a recipe from asking for unbounded work.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Color = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]
Coord = Annotated[float, Field(ge=-100_000, le=100_000)]
Length = Annotated[float, Field(gt=0, le=100_000)]


class _Op(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Crop(_Op):
    op: Literal["crop"]
    x: Coord
    y: Coord
    width: Length
    height: Length


class Rotate(_Op):
    op: Literal["rotate"]
    degrees: float = Field(ge=-360, le=360)


class Flip(_Op):
    op: Literal["flip"]
    direction: Literal["horizontal", "vertical"]


class Resize(_Op):
    op: Literal["resize"]
    width: int = Field(ge=1, le=20_000)
    height: int = Field(ge=1, le=20_000)


class Adjust(_Op):
    """-1 … 1 around the unchanged image (0)."""

    op: Literal["adjust"]
    brightness: float = Field(0, ge=-1, le=1)
    contrast: float = Field(0, ge=-1, le=1)
    saturation: float = Field(0, ge=-1, le=1)


class Filter(_Op):
    op: Literal["filter"]
    name: Literal["grayscale", "sepia", "blur", "sharpen", "pixelate"]
    # blur: radius in pixels; pixelate: block size; others ignore it.
    amount: float = Field(4, ge=0, le=200)


class Stroke(_Op):
    """Freehand (many points) or a straight line (two points)."""

    op: Literal["stroke"]
    points: list[tuple[Coord, Coord]] = Field(min_length=2, max_length=20_000)
    color: Color = "#000000"
    width: float = Field(4, gt=0, le=500)


class Shape(_Op):
    op: Literal["shape"]
    kind: Literal["rectangle", "ellipse", "triangle", "arrow"]
    x: Coord
    y: Coord
    width: Coord
    height: Coord
    stroke: Color | None = "#000000"
    fill: Color | None = None
    stroke_width: float = Field(4, ge=0, le=500)


class Text(_Op):
    op: Literal["text"]
    x: Coord
    y: Coord  # top of the text box
    text: str = Field(min_length=1, max_length=1000)
    size: float = Field(32, ge=4, le=1000)
    color: Color = "#000000"
    bold: bool = False
    italic: bool = False


class Watermark(_Op):
    """Another image of the organisation placed over this one."""

    op: Literal["watermark"]
    image_id: uuid.UUID
    x: Coord
    y: Coord
    width: Length
    opacity: float = Field(0.5, ge=0, le=1)


Operation = Annotated[
    Crop | Rotate | Flip | Resize | Adjust | Filter | Stroke | Shape | Text | Watermark,
    Field(discriminator="op"),
]


class Recipe(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    operations: list[Operation] = Field(max_length=1000)

    def watermark_ids(self) -> set[uuid.UUID]:
        return {op.image_id for op in self.operations if isinstance(op, Watermark)}
