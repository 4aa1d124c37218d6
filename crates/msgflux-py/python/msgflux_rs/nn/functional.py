"""Batches: ``import msgflux_rs.nn.functional as F``; ``F.map_gather(model, args_list=[...])``."""

from __future__ import annotations

from typing import Any, List, Optional, Sequence

from msgflux_rs import _native
from msgflux_rs._native import Model, map_gather


async def amap_gather(
    model: Model,
    args_list: Optional[Sequence[Any]] = None,
    kwargs_list: Optional[Sequence[dict]] = None,
    *,
    concurrency: int = 4,
    timeout: Optional[float] = None,
    return_exceptions: bool = False,
) -> List[Any]:
    """``map_gather`` in an event loop: ``await F.amap_gather(model, args_list=[...])``.

    A coroutine (so ``asyncio.run(F.amap_gather(...))`` works); the batch runs
    on the shared runtime, and cancelling the coroutine cancels it.
    """
    return await _native.amap_gather(
        model,
        args_list,
        kwargs_list,
        concurrency=concurrency,
        timeout=timeout,
        return_exceptions=return_exceptions,
    )


__all__ = ["map_gather", "amap_gather"]
