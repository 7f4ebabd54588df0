"""The ordered indexes behind listings stay correct under creates and deletes, and the
timeline helpers read state as a pure function of the clock."""

from __future__ import annotations

import random

from modelarts_testbed.emulator.state import (
    Collection,
    cut_timeline,
    entered_at,
    keyed,
    page_slice,
    status_at,
)


def test_views_stay_sorted_under_random_creates_and_deletes() -> None:
    rng = random.Random(3)
    coll: Collection = keyed("id")
    names = {}
    for i in range(300):
        names[i] = f"n{rng.randint(0, 50):03d}"
        coll.add(i, {"id": i, "name": names[i], "ws": i % 3})
    by_name = coll.view(("name", 0), lambda r: r["ws"] == 0, lambda r: r["name"])
    by_creation = coll.view(("created", 0), lambda r: r["ws"] == 0, None)
    for i in range(300, 600):
        if rng.random() < 0.4 and coll.items:
            victim = rng.choice(list(coll.items))
            coll.remove(victim)
            names.pop(victim)
        else:
            names[i] = f"n{rng.randint(0, 50):03d}"
            coll.add(i, {"id": i, "name": names[i], "ws": i % 3})
    expected = sorted((k for k in names if k % 3 == 0), key=lambda k: (names[k], k))
    assert coll.view(("name", 0), lambda r: True, None) == expected
    assert by_name == expected  # the same list object, maintained in place
    assert by_creation == sorted(k for k in names if k % 3 == 0)


def test_page_slice_both_directions() -> None:
    ids = list(range(10))
    assert page_slice(ids, 0, 3, descending=False) == [0, 1, 2]
    assert page_slice(ids, 3, 3, descending=True) == [6, 5, 4]
    assert page_slice(ids, 9, 3, descending=True) == [0]
    assert page_slice(ids, 10, 3, descending=True) == []


def test_timeline_helpers() -> None:
    tl = [[0, 1], [10, 7], [20, 8], [50, 10]]
    assert [status_at(tl, t) for t in (0, 9, 10, 25, 50, 99)] == [1, 1, 7, 8, 10, 10]
    assert entered_at(tl, 8, 19) is None
    assert entered_at(tl, 8, 30) == 20
    assert cut_timeline(tl, 25) == [[0, 1], [10, 7], [20, 8]]
