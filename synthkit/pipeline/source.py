"""Reading a plan's source, the same way on every engine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any

from synthkit.io.interchange import is_table_source, read_records
from synthkit.pipeline.plan import Plan

__all__ = ["aiter_source", "iter_source"]


def _items(plan: Plan) -> Iterable[Any] | AsyncIterable[Any]:
    src = plan.source
    if is_table_source(src):  # a JSONL or Parquet path, a Dataset, a DataFrame
        return read_records(src, on_bad_line=plan.on_bad_line)
    return src


def iter_source(plan: Plan) -> Iterator[Any]:
    """Yield the source's items (records, and :class:`~synthkit.io.jsonl.BadLine` s) from synchronous code.

    An async iterable source is driven by a private event loop.
    """
    src = _items(plan)
    if not isinstance(src, AsyncIterable):
        yield from src
        return
    loop = asyncio.new_event_loop()
    it = src.__aiter__()
    try:
        while True:
            try:
                yield loop.run_until_complete(it.__anext__())
            except StopAsyncIteration:
                return
    finally:
        loop.close()


async def aiter_source(plan: Plan) -> AsyncIterator[Any]:
    """Yield the source's items from async code."""
    src = _items(plan)
    if isinstance(src, AsyncIterable):
        async for item in src:
            yield item
    else:
        for item in src:
            yield item
