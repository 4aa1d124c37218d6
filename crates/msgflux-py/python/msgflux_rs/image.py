"""Images and masks, the helpers the msgflux docs write by hand with Pillow.

Every pixel is handled by the Rust core (``msgflux::image``); neither
Pillow nor numpy is needed. Arguments that are images take what a model
call takes: a path, URL, data URI, base64, bytes, a file object, a Pillow
image or a numpy array.
"""

from __future__ import annotations

from msgflux_rs._native import (
    Mask,
    Prepared,
    compare,
    ellipse,
    leak_report,
    polygon,
    prepare,
    rectangle,
)


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
