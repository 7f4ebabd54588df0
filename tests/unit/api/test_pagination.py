"""Pagination helpers walk every page in both documented styles and always terminate."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import httpx

from modelarts_operator.api.pagination import iter_offset_pages, iter_page_numbers

from .helpers import FakeTime, Script, make_client


def _models(names: list[str]) -> list[dict[str, Any]]:
    return [{"model_id": n, "model_name": n, "model_version": "1.0.0"} for n in names]


def _offset_server(total: int, *, offset_is_page: bool) -> Script:
    names = [f"m{i:02d}" for i in range(total)]

    def handler(request: httpx.Request) -> httpx.Response:
        q = dict(parse_qsl(request.url.query.decode()))
        offset, limit = int(q["offset"]), int(q["limit"])
        start = offset * limit if offset_is_page else offset
        chunk = names[start : start + limit]
        return httpx.Response(
            200, json={"total_count": total, "count": len(chunk), "models": _models(chunk)}
        )

    return Script().then(handler)


async def test_offset_as_page_index_walks_all_pages() -> None:
    script = _offset_server(7, offset_is_page=True)
    client = make_client(script, FakeTime())
    names = [m.model_name async for m in client.models.iter_all(page_size=3)]
    assert names == [f"m{i:02d}" for i in range(7)]
    offsets = [dict(parse_qsl(r.url.query.decode()))["offset"] for r in script.requests]
    assert offsets == ["0", "1", "2"]


async def test_offset_as_item_index_when_configured() -> None:
    script = _offset_server(7, offset_is_page=False)
    client = make_client(script, FakeTime(), offset_is_page=False)
    names = [m.model_name async for m in client.models.iter_all(page_size=3)]
    assert names == [f"m{i:02d}" for i in range(7)]
    offsets = [dict(parse_qsl(r.url.query.decode()))["offset"] for r in script.requests]
    assert offsets == ["0", "3", "6"]


async def test_exact_multiple_stops_on_total_without_an_extra_call() -> None:
    script = _offset_server(6, offset_is_page=True)
    client = make_client(script, FakeTime())
    assert len([m async for m in client.models.iter_all(page_size=3)]) == 6
    assert len(script.requests) == 2


async def test_training_pages_are_one_based() -> None:
    jobs = [{"job_id": i, "job_name": f"j{i}"} for i in range(5)]

    def handler(request: httpx.Request) -> httpx.Response:
        q = dict(parse_qsl(request.url.query.decode()))
        page, per_page = int(q["page"]), int(q["per_page"])
        chunk = jobs[(page - 1) * per_page : page * per_page]
        return httpx.Response(200, json={"is_success": True, "job_total_count": 5, "jobs": chunk})

    script = Script().then(handler)
    client = make_client(script, FakeTime())
    ids = [j.job_id async for j in client.training_jobs.iter_all(per_page=2)]
    assert ids == [0, 1, 2, 3, 4]
    pages = [dict(parse_qsl(r.url.query.decode()))["page"] for r in script.requests]
    assert pages == ["1", "2", "3"]


async def test_server_ignoring_paging_does_not_loop_forever() -> None:
    calls: list[int] = []

    async def fetch(offset: int, limit: int) -> list[int]:
        calls.append(offset)
        return [1, 2, 3]  # always the same full page, no total

    items = [i async for i in iter_offset_pages(fetch, lambda p: p, lambda p: None, limit=3)]
    assert items == [1, 2, 3]
    assert calls == [0, 1]


async def test_empty_first_page() -> None:
    async def fetch(page: int, size: int) -> list[int]:
        return []

    assert [i async for i in iter_page_numbers(fetch, lambda p: p, lambda p: 0)] == []


async def test_one_paginator_binds_filters_and_adds_the_paging_of_either_style() -> None:
    from dataclasses import dataclass, field
    from functools import partial

    from modelarts_operator.api.pagination import Paging, first, paginate

    @dataclass
    class Page:
        items: list[int] = field(default_factory=list)
        total: int = 5

    calls: list[dict[str, Any]] = []

    async def fetch(**query: Any) -> Page:
        calls.append(query)
        number = query.get("page", query.get("offset"))
        size = query.get("per_page", query.get("limit"))
        start = (number - 1) * size if "page" in query else number * size
        return Page(list(range(start, min(start + size, 5))))

    numbered: Paging[Page, int] = Paging(lambda p: p.items, lambda p: p.total, numbered=True)
    got = [i async for i in paginate(partial(fetch, workspace_id="w"), numbered, 2)]
    assert got == [0, 1, 2, 3, 4]
    assert calls[0] == {"workspace_id": "w", "page": 1, "per_page": 2}
    calls.clear()
    offsets: Paging[Page, int] = Paging(lambda p: p.items, lambda p: p.total)
    assert await first(paginate(fetch, offsets, 2), lambda i: i == 3) == 3
    assert calls == [{"offset": 0, "limit": 2}, {"offset": 1, "limit": 2}]
    assert await first(paginate(fetch, offsets, 2), lambda i: i > 9) is None
