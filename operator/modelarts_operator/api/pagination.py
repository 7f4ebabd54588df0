"""Iterate every page of a list API, for both documented paging styles.

Training APIs page with ``per_page`` + ``page`` (1-based); models, services, workspaces and
events with ``offset`` + ``limit``, where the documents call ``offset`` "start page" / "index
of the page" (so it is a page index, not an item index; the emulator agrees). Iteration
stops on a short page, on the reported total, or on an empty page, and refuses to loop
forever on a server that ignores paging.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["MAX_PAGES", "Paging", "first", "iter_offset_pages", "iter_page_numbers", "paginate"]

P = TypeVar("P")
I = TypeVar("I")  # noqa: E741

MAX_PAGES = 100_000


async def _iterate(
    fetch: Callable[[int], Awaitable[P]],
    items_of: Callable[[P], Sequence[I] | None],
    total_of: Callable[[P], int | None],
    first: int,
    size: int,
) -> AsyncIterator[I]:
    seen = 0
    number = first
    previous_first: I | None = None
    for _ in range(MAX_PAGES):
        page = await fetch(number)
        items = list(items_of(page) or [])
        if not items:
            return
        if previous_first is not None and items[0] == previous_first:
            return  # the server ignored the page parameter and answered the same page again
        previous_first = items[0]
        for item in items:
            yield item
        seen += len(items)
        total = total_of(page)
        if len(items) < size or len(items) > size or (total is not None and seen >= total):
            return
        number += 1


def iter_offset_pages(
    fetch: Callable[[int, int], Awaitable[P]],
    items_of: Callable[[P], Sequence[I] | None],
    total_of: Callable[[P], int | None],
    *,
    limit: int = 100,
    offset_is_page: bool = True,
) -> AsyncIterator[I]:
    """``fetch(offset, limit)`` for offset = 0, 1, 2... (or 0, limit, 2*limit...)."""

    def by_page(number: int) -> Awaitable[P]:
        return fetch(number if offset_is_page else number * limit, limit)

    return _iterate(by_page, items_of, total_of, 0, limit)


def iter_page_numbers(
    fetch: Callable[[int, int], Awaitable[P]],
    items_of: Callable[[P], Sequence[I] | None],
    total_of: Callable[[P], int | None],
    *,
    per_page: int = 100,
) -> AsyncIterator[I]:
    """``fetch(page, per_page)`` for page = 1, 2, 3..."""
    return _iterate(lambda n: fetch(n, per_page), items_of, total_of, 1, per_page)


@dataclass(frozen=True)
class Paging(Generic[P, I]):
    """How one list API pages: where a page's items and reported total are, and its style:
    ``numbered`` (``page`` + ``per_page`` from 1, the training APIs) or offset (``offset`` +
    ``limit``; whether offset counts pages or items is the client's ``offset_is_page``)."""

    items: Callable[[P], Sequence[I] | None]
    total: Callable[[P], int | None]
    numbered: bool = False


def paginate(
    fetch: Callable[..., Awaitable[P]],
    paging: Paging[P, I],
    size: int,
    *,
    offset_is_page: bool = True,
) -> AsyncIterator[I]:
    """Every item of a list API: ``fetch`` is its one-page call with the filters bound (e.g.
    ``functools.partial(client.models.list, workspace_id=ws)``); the paging parameters are
    added here in the API's style."""
    if paging.numbered:
        return iter_page_numbers(
            lambda number, per_page: fetch(page=number, per_page=per_page),
            paging.items,
            paging.total,
            per_page=size,
        )
    return iter_offset_pages(
        lambda offset, limit: fetch(offset=offset, limit=limit),
        paging.items,
        paging.total,
        limit=size,
        offset_is_page=offset_is_page,
    )


async def first(items: AsyncIterator[I], predicate: Callable[[I], bool]) -> I | None:
    """The first item that matches (list filters on names are fuzzy: compare exactly)."""
    async for item in items:
        if predicate(item):
            return item
    return None
