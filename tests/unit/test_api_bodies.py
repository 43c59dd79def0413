"""JSON bodies are refused with a 400 when no layer below could handle them."""

from __future__ import annotations

import pytest

from pocketstack.common.api.bodies import INT64_MAX, INT64_MIN, MAX_DEPTH, parse_json
from pocketstack.common.errors import BadRequest


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_ordinary_bodies_parse():
    assert parse_json(b'{"server": {"name": "x", "min_count": 1, "metadata": {"a": "b"}}}') == {
        "server": {"name": "x", "min_count": 1, "metadata": {"a": "b"}}}
    assert parse_json(nested(MAX_DEPTH)) is not None
    assert parse_json(f"[{INT64_MAX}, {INT64_MIN}, 1.5e300, true]".encode()) == [INT64_MAX, INT64_MIN, 1.5e300, True]
    assert parse_json('"caf\\u00e9 \\ud83d\\ude00"'.encode()) == "café 😀"


@pytest.mark.parametrize("raw, words", [
    (nested(MAX_DEPTH + 1), "nested deeper"),
    (nested(100_000), "nested deeper"),
    (b"[" * 100_000, "nested deeper"),  # also when it is not even well-formed
    (b'{"a": ' * 3000 + b"1" + b"}" * 3000, "nested"),
    (str(INT64_MAX + 1).encode(), "out of range"),
    (f'{{"size": {INT64_MIN - 1}}}'.encode(), "out of range"),
    (b'{"name": "\\ud800"}', "surrogate"),
    (b'{"\\udfff": 1}', "surrogate"),
    (b'["ok", ["\\ud83d x"]]', "surrogate"),
    (b"{not json", "Malformed"),
    (b"\xff\xfe", "Malformed"),
])
def test_unstorable_bodies_are_bad_requests(raw, words):
    with pytest.raises(BadRequest) as caught:
        parse_json(raw)
    assert words in caught.value.message


def test_brackets_inside_strings_do_not_count():
    deep_looking = '{"text": "' + "[" * 500 + '", "escaped": "\\"' + "{" * 500 + '"}'
    assert parse_json(deep_looking.encode())["text"] == "[" * 500
