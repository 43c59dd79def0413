"""A client reads the message back out of every error format the services render, and
keeps what a body without one said for the caller to word."""

from __future__ import annotations

import httpx
import pytest

from pocketstack.common.answers import Answer
from pocketstack.common.api.errors import fault_format, keystone_format, neutron_format, plain_format
from pocketstack.common.errors import NotFound


def answered(status: int, content: bytes, media_type: str = "application/json") -> httpx.Response:
    return httpx.Response(status, content=content, headers={"Content-Type": media_type})


@pytest.mark.parametrize("render", [keystone_format, fault_format, neutron_format])
def test_json_formats_give_their_message(render):
    rendered = render(NotFound("Flavor x could not be found."))
    answer = Answer.of(answered(rendered.status_code, rendered.body))
    assert (answer.status, answer.is_json, answer.message) == (404, True, "Flavor x could not be found.")


def test_text_format_has_no_message_but_its_text():
    rendered = plain_format(NotFound("The resource could not be found."))
    answer = Answer.of(answered(rendered.status_code, rendered.body, "text/plain"))
    assert (answer.status, answer.reason, answer.is_json, answer.message) == (404, "Not Found", False, None)
    assert answer.text.strip().splitlines()[-1] == "The resource could not be found."


@pytest.mark.parametrize("content, message", [
    (b'{"message": "top level"}', "top level"),
    (b'{"other": 1, "conflictingRequest": {"message": "", "code": 409}}', ""),
    (b'{"errors": [{"title": "Conflict"}]}', None),
    (b'["a list"]', None),
    (b"null", None),
])
def test_other_json_bodies(content, message):
    answer = Answer.of(answered(409, content))
    assert answer.is_json and answer.message == message


def test_undecodable_body_is_text():
    answer = Answer.of(answered(500, b"\xff\xfe not json", "application/octet-stream"))
    assert not answer.is_json and answer.message is None and answer.body is None
