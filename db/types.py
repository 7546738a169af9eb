"""A JSON column whose value is checked against a declared shape on the way in.

The seed stored colours, fonts, tags, keypoints, distributions and format breakdowns as JSON strings;
here they are real JSON columns, and a value of the wrong shape is refused before it reaches the
database (core validates first with friendly messages; this is the last line of defence).
"""
from __future__ import annotations

import re
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import AfterValidator, Field, TypeAdapter

HEX_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def _hex(v: str) -> str:
    if not HEX_COLOR.match(v):
        raise ValueError(f"{v!r} is not a #RRGGBB colour")
    return v.upper()


HexColor = Annotated[str, AfterValidator(_hex)]
# One keypoint: [x, y, confidence] normalised to the canvas, or null for a missing joint.
Keypoint = Annotated[list[float], Field(min_length=3, max_length=3)] | None

SHAPES: dict[str, TypeAdapter] = {
    "colors": TypeAdapter(Annotated[list[HexColor], Field(min_length=1, max_length=10)]),
    "strings": TypeAdapter(list[Annotated[str, Field(max_length=100)]]),
    "keypoints": TypeAdapter(Annotated[list[Keypoint], Field(min_length=18, max_length=18)]),
    "counts": TypeAdapter(dict[str, Annotated[int, Field(ge=0)]]),
    "object": TypeAdapter(dict[str, Any]),
    "objects": TypeAdapter(list[dict[str, Any]]),
    # A box in pixels: [x0, y0, x1, y1], x1/y1 exclusive.
    "box": TypeAdapter(Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=4, max_length=4)]),
}


class ShapedJSON(sa.types.TypeDecorator):
    """JSON with a named shape from SHAPES. Renders as plain sa.JSON in migrations."""

    impl = sa.JSON
    cache_ok = True

    def __init__(self, shape: str):
        if shape not in SHAPES:
            raise KeyError(shape)
        self.shape = shape
        super().__init__()

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return SHAPES[self.shape].dump_python(SHAPES[self.shape].validate_python(value), mode="json")

    def copy(self, **kw):
        return ShapedJSON(self.shape)


def render_item(type_, obj, autogen_context):
    """Alembic hook: render our column types as plain SQLAlchemy types, so migrations never depend on
    how a library spells its own types. Shaped JSON -> JSON (the shape check lives in the model)."""
    if type_ != "type":
        return False
    if isinstance(obj, ShapedJSON):
        return "sa.JSON()"
    if type(obj).__name__ == "AutoString":
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    if type(obj).__name__ == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    return False


def compare_type(context, inspected_column, metadata_column, inspected_type, metadata_type):
    """Alembic hook: a shaped JSON column matches any reflected JSON column; others compare as usual."""
    if isinstance(metadata_type, ShapedJSON):
        return not isinstance(inspected_type, sa.JSON)
    return None
