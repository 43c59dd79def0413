"""``/v3/{project_id}/messages`` (3.3+): list, show and delete user messages; paging,
sorting and filters from 3.5, as Cinder's messages controller reads them."""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.common.pagination import Paging
from pocketstack.volume import models as m
from pocketstack.volume.api.common import PREFIX, links, offset, own_project, page_links, paging
from pocketstack.volume.messages import FILTERS, SORT_KEYS, Messages, user_message

MESSAGES = "3.3"
PAGINATION = (3, 5)


def detail(req: ApiRequest, message: m.Message) -> dict:
    body = {"id": message.id, "event_id": message.event_id, "user_message": user_message(message),
            "message_level": message.message_level, "created_at": message.created_at,
            "guaranteed_until": message.expires_at, "request_id": message.request_id,
            "links": links(req, "messages", message.id)}
    if message.resource_type:
        body["resource_type"] = message.resource_type
    if message.resource_uuid:
        body["resource_uuid"] = message.resource_uuid
    return body


class MessagesApi:
    def __init__(self, messages: Messages):
        self.messages = messages

    def load(self, req: ApiRequest) -> m.Message:
        """The message as the caller sees it (404), then the route's rule on its project."""
        message = self.messages.get(req.caller, req.path_params["message_id"])
        req.authorize(target={"project_id": message.project_id})
        return message

    @route.get(PREFIX + "/messages", policy="message:get_all", since=MESSAGES)
    def index(self, req: ApiRequest) -> dict:
        req.authorize(target=own_project(req))
        page, skip, filters = Paging(sort=[("created_at", "desc"), ("id", "desc")]), 0, {}
        if req.at_least(*PAGINATION):
            page, skip = paging(req, SORT_KEYS), offset(req)
            filters = {key: req.query[key] for key in FILTERS if key in req.query}
        rows = self.messages.list(req.caller, filters, page, skip)
        return {"messages": [detail(req, row) for row in rows], **page_links(req, "messages", rows, page, "messages")}

    @route.get(PREFIX + "/messages/{message_id}", policy="message:get", since=MESSAGES)
    def show(self, req: ApiRequest) -> dict:
        return {"message": detail(req, self.load(req))}

    @route.delete(PREFIX + "/messages/{message_id}", policy="message:delete", since=MESSAGES)
    def delete(self, req: ApiRequest) -> Response:
        self.messages.delete(req.caller, self.load(req).id)
        return Response(status_code=204)
