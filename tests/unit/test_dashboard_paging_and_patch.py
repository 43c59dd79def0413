"""The dashboard's logic that calls nothing: where a list page's Next/Previous lead (one
item more than a page, asked for, tells whether there is a next one) and the Glance JSON
patch the image form makes."""

from __future__ import annotations

import pytest
from starlette.datastructures import QueryParams

from pocketstack.dashboard.pages.image_properties import image_patch, pointer
from pocketstack.dashboard.paging import PAGE_SIZE, Position, page_in, page_of
from pocketstack.dashboard.web import FormError


def test_positions_walk_forward_and_back():
    first = Position.of(QueryParams("limit=2"))
    assert first.params() == {"limit": 3} and first.before() is None
    second = first.after("a")
    third = second.after("b")
    assert third.query() == "marker=b&trail=a&limit=2"
    assert Position.of(QueryParams(third.query())) == third
    assert third.before() == second and second.before() == first
    assert Position.of(QueryParams("limit=zero")).limit == PAGE_SIZE
    assert Position.of(QueryParams("limit=99999")).limit == 999


def test_a_page_links_only_where_there_is_more():
    position = Position(limit=2).after("a")
    full = page_of({"images": [{"id": "b"}, {"id": "c"}, {"id": "d"}]}, "images", position)
    assert [i["id"] for i in full.items] == ["b", "c"]
    assert full.next == "marker=c&trail=a&limit=2" and full.previous == "limit=2"
    # A full last page (the APIs' own next links would still follow it) has no Next.
    last = page_of({"images": [{"id": "b"}, {"id": "c"}], "next": "/v2/images?marker=c"}, "images", position)
    assert last.next is None and len(last.items) == 2
    assert page_of({"images": []}, "images", position).next is None
    assert page_of({"images": [{"id": "b"}]}, "images", Position()).previous is None


IMAGE = {"id": "i", "name": "old", "visibility": "private", "protected": False, "min_disk": 0, "min_ram": 0,
         "color": "red", "a/b": "x"}


def test_the_patch_holds_only_what_changed():
    same = {"name": "old", "visibility": "private", "min_disk": "0", "min_ram": "0", "property.color": "red"}
    assert image_patch(IMAGE, same, []) == []
    changed = {**same, "name": "new", "protected": "on", "min_disk": "3", "property.color": "blue",
               "new_key": "os_distro", "new_value": "debian"}
    assert image_patch(IMAGE, changed, ["a/b"]) == [
        {"op": "replace", "path": "/name", "value": "new"},
        {"op": "replace", "path": "/protected", "value": True},
        {"op": "replace", "path": "/min_disk", "value": 3},
        {"op": "remove", "path": "/a~1b"},
        {"op": "replace", "path": "/color", "value": "blue"},
        {"op": "add", "path": "/os_distro", "value": "debian"}]
    assert pointer("x~y/z") == "/x~0y~1z"


@pytest.mark.parametrize("fields, message", [
    ({"name": ""}, "A name is required."),
    ({"name": "n", "min_ram": "-1"}, "The minimum RAM must be a whole number"),
    ({"name": "n", "new_key": "status", "new_value": "x"}, "status is one of the image's own fields"),
    ({"name": "n", "new_value": "x"}, "A new property needs a name."),
])
def test_bad_input_is_refused_in_words(fields, message):
    with pytest.raises(FormError, match=message):
        image_patch(IMAGE, fields, [])


def test_a_whole_list_pages_as_an_api_paged_one():
    items = [{"id": str(i), "name": f"n{i}"} for i in range(5)]
    first = page_in(items, Position(limit=2))
    assert [i["id"] for i in first.items] == ["0", "1"] and first.previous is None
    second = page_in(items, Position.of(QueryParams(first.next)))
    assert [i["id"] for i in second.items] == ["2", "3"] and second.previous == "limit=2"
    last = page_in(items, Position.of(QueryParams(second.next)))
    assert [i["id"] for i in last.items] == ["4"] and last.next is None
    assert Position.of(QueryParams(last.previous)) == Position.of(QueryParams(first.next))
    # Items keyed otherwise than by id (role assignments); a marker gone starts over.
    by_name = page_in(items, Position("n3", limit=2), marker=lambda i: i["name"])
    assert [i["id"] for i in by_name.items] == ["4"]
    assert [i["id"] for i in page_in(items, Position("gone", limit=2)).items] == ["0", "1"]
