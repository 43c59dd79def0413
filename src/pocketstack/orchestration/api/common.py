"""What every Orchestration handler shares: Heat's fault body and the project check."""

from __future__ import annotations

import json

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.errors import ApiError
from pocketstack.orchestration import errors

# webob's titles and explanations, which Heat's fault middleware copies into every body.
_WEBOB = {
    400: ("Bad Request", "The server could not comply with the request since it is either malformed or otherwise "
                         "incorrect."),
    401: ("Unauthorized", "This server could not verify that you are authorized to access the document you "
                          "requested. Either you supplied the wrong credentials (e.g., bad password), or your "
                          "browser does not understand how to supply the credentials required."),
    403: ("Forbidden", "Access was denied to this resource."),
    404: ("Not Found", "The resource could not be found."),
    405: ("Method Not Allowed", "The method is not allowed for this resource."),
    406: ("Not Acceptable", "The resource could not be generated that was acceptable to your browser."),
    409: ("Conflict", "There was a conflict when trying to complete your request."),
    413: ("Request Entity Too Large", "The body of your request was too large for this server."),
    415: ("Unsupported Media Type", "The request media type is not supported by this server."),
    500: ("Internal Server Error", "The server has either erred or is incapable of performing the requested "
                                   "operation."),
    503: ("Service Unavailable", "The server is currently unavailable. Please try again at a later time."),
}


def heat_format(error: ApiError) -> Response:
    """``{"explanation", "code", "error": {"message", "traceback", "type"}, "title"}``."""
    title, explanation = _WEBOB.get(error.status, _WEBOB[500 if error.status >= 500 else 400])
    # An error without a name of its own (no route, no method) is webob's, as in Heat.
    kind = error.error_type if error.error_type != "ApiError" else "HTTP" + title.replace(" ", "")
    body = {"explanation": explanation, "code": error.status, "title": title,
            "error": {"message": error.message, "traceback": None, "type": kind}}
    return Response(json.dumps(body), status_code=error.status, headers=dict(error.headers),
                    media_type="application/json")


def project(req: ApiRequest) -> str:
    """The project in the URL: the target of every rule, the owner of what is read."""
    return str(req.path_params["tenant_id"])


def authorize(req: ApiRequest) -> str:
    tenant = project(req)
    req.authorize(target={"project_id": tenant, "tenant_id": tenant})
    return tenant


def flag(req: ApiRequest, name: str) -> bool:
    """A boolean query parameter as Heat's ``param_utils.extract_bool`` reads it
    (``true``/``false`` in any case; absent: false)."""
    value = req.query.get(name)
    if value is None:
        return False
    if value.lower() not in ("true", "false"):
        raise errors.InvalidParam(message=f'Unrecognized value "{value}" for "{name}", acceptable values are: '
                                          'true, false.')
    return value.lower() == "true"


def depth(req: ApiRequest, name: str) -> int:
    """A non-negative integer query parameter (``param_utils.extract_int``; absent: 0)."""
    value = req.query.get(name)
    if value is None:
        return 0
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or str(number) != value:  # oslo's is_int_like
        raise errors.InvalidParam(message=f"Only integer is acceptable by '{name}'.")
    if number < 0:
        raise errors.InvalidParam(message=f"Value '{value}' is invalid for '{name}' which only accepts "
                                          "non-negative integer.")
    return number


def iso(value) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None
