"""Batches: ``import msgflux_rs.nn.functional as F``; ``F.map_gather(model, args_list=[...])``."""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Tuple

from msgflux_rs._native import Batch, Model


def map_gather(
    model: Model,
    args_list: Optional[Sequence[Any]] = None,
    kwargs_list: Optional[Sequence[Dict[str, Any]]] = None,
    *,
    concurrency: int = 4,
    timeout: Optional[float] = None,
    return_exceptions: bool = False,
) -> Tuple[Any, ...]:
    """Runs every item through ``model`` and returns the responses in input order (a tuple).

    Items are ``(prompt, image)`` or ``(prompt, image, mask)`` tuples, with
    ``kwargs_list`` giving each item's keywords (or alone, dicts of them).
    At most ``concurrency`` items run at once; ``timeout`` (seconds) bounds
    each item and cancels it. The GIL is released while the batch runs.

    When items fail, raises ``BatchError``: its ``.results`` holds every slot
    (a response or the item's exception), its ``.errors`` the failures. With
    ``return_exceptions=True`` the exceptions are returned in their slots,
    as ``asyncio.gather`` does.
    """
    return Batch(model, args_list, kwargs_list, concurrency, timeout, return_exceptions).gather()


async def amap_gather(
    model: Model,
    args_list: Optional[Sequence[Any]] = None,
    kwargs_list: Optional[Sequence[Dict[str, Any]]] = None,
    *,
    concurrency: int = 4,
    timeout: Optional[float] = None,
    return_exceptions: bool = False,
) -> Tuple[Any, ...]:
    """``map_gather`` in an event loop: ``await F.amap_gather(model, args_list=[...])``.

    The batch runs on the shared runtime; cancelling the coroutine cancels it.
    """
    return await Batch(model, args_list, kwargs_list, concurrency, timeout, return_exceptions).agather()


__all__ = ["map_gather", "amap_gather"]
