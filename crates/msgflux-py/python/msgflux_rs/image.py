"""Images and masks, the helpers the msgflux docs write by hand with Pillow.

Every pixel is handled by the Rust core (``msgflux::image``); neither
Pillow nor numpy is needed. Arguments that are images take what a model
call takes: a path, URL, data URI, base64, bytes, a file object, a Pillow
image or a numpy array.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple

from msgflux_rs._native import Mask, Prepared, compare, leak_report, prepare, shape_mask

Box = Tuple[int, int, int, int]


def rectangle(box: Box, *, size: Optional[Tuple[int, int]] = None, like: Any = None) -> Mask:
    """A mask that edits the ``(left, top, right, bottom)`` box (right and bottom
    excluded), on a canvas of ``size=(width, height)`` or the size of the image ``like``."""
    return shape_mask("rectangle", box, size, like)


def ellipse(box: Box, *, size: Optional[Tuple[int, int]] = None, like: Any = None) -> Mask:
    """A mask that edits the ellipse inscribed in the box (as Pillow's ``ImageDraw.ellipse``)."""
    return shape_mask("ellipse", box, size, like)


def polygon(points: Sequence[Tuple[float, float]], *, size: Optional[Tuple[int, int]] = None, like: Any = None) -> Mask:
    """A mask that edits inside the polygon through ``points`` (``[(x, y), ...]``)."""
    return shape_mask("polygon", points, size, like)


def feather(mask: Mask, sigma: float) -> Mask:
    """Soft edges: a Gaussian blur of ``sigma`` pixels (``mask.feather(sigma)``)."""
    return mask.feather(sigma)


def invert(mask: Mask) -> Mask:
    """Edit where ``mask`` keeps, keep where it edits (``mask.invert()``)."""
    return mask.invert()


__all__ = [
    "Mask",
    "Prepared",
    "prepare",
    "rectangle",
    "ellipse",
    "polygon",
    "feather",
    "invert",
    "compare",
    "leak_report",
]
