"""Static web sites from public containers (Swift's ``staticweb`` middleware).

For anonymous GETs and HEADs (and token holders who send ``X-Web-Mode: true``), a
container's metadata makes it a web site: ``X-Container-Meta-Web-Index`` (the object
served for ``.../dir/``), ``-Web-Listings: true`` (HTML listings of pseudo-directories
without an index; the container must allow listings, ``.r:*,.rlistings``),
``-Web-Listings-CSS`` (their style sheet), ``-Web-Listings-Label`` (their title),
``-Web-Error`` (errors 401 and 404 served from ``<status><suffix>``) and
``-Web-Directory-Type`` (the Content-Type of directory markers, treated as missing;
default ``application/directory``).  A path to a directory without its trailing slash
is redirected (301) to it.  Reading stays subject to the container's read ACL: another
project's private container never turns into a site.  TempURLs cover objects only
here, so Swift's prefix-TempURL listings are not offered.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from urllib.parse import quote

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.errors import ApiError
from pocketstack.object import errors
from pocketstack.object.api import access, listing
from pocketstack.object.store import ObjectStore

DIRECTORY_TYPE = "application/directory"
TRUE = ("true", "1", "yes", "on", "t", "y")
# Serves one object as the caller may read it (ObjectsApi.serve); raises ApiError.
Serve = Callable[[ApiRequest, str, str, str], Response]


def applies(req: ApiRequest) -> bool:
    """Is this a web request: a GET/HEAD without a token, or one asking ``X-Web-Mode``?"""
    if req.method not in ("GET", "HEAD"):
        return False
    return req.context is None or req.headers.get("x-web-mode", "f").lower() in TRUE


def human_readable(value: int) -> str:
    """A size as Swift's listings show it: ``1023``, ``1Ki``, ``5Mi``..."""
    amount, index, suffixes = float(value), -1, "KMGTPEZY"
    while amount >= 1024 and index + 1 < len(suffixes):
        index += 1
        amount = round(amount / 1024)
    return f"{amount:.0f}" if index == -1 else f"{round(amount)}{suffixes[index]}i"


class Site:
    """One web request to a container (blocking: reads databases and objects)."""

    def __init__(self, req: ApiRequest, store: ObjectStore, serve: Serve, account: str, container: str):
        self.req, self.store, self.serve = req, store, serve
        self.account, self.container = account, container
        found = store.container(account, container)
        meta = found[1]["metadata"] if found else {}

        def setting(name: str) -> str:
            return meta.get("X-Container-Meta-Web-" + name, [""])[0].strip()

        self.index, self.error, self.listings = setting("Index"), setting("Error"), setting("Listings")
        self.label, self.css = setting("Listings-Label"), setting("Listings-Css")
        self.directory_type = setting("Directory-Type") or DIRECTORY_TYPE

    def _path(self, obj: str = "") -> str:
        root = self.req.attributes.get("service_path", "")
        return f"{root}/v1/{self.account}/{self.container}" + (f"/{obj}" if obj else "")

    def _redirect(self, obj: str) -> Response:
        location = str(self.req.raw.url.replace(path=quote(self._path(obj) + "/"), query=""))
        return Response(status_code=301, headers={"Location": location}, media_type="text/html; charset=UTF-8")

    def _error_page(self, error: ApiError) -> Response:
        """``error``, or the container's page for its status when it has one."""
        if self.error:
            try:
                page = self.serve(self.req, self.account, self.container, f"{error.status}{self.error}")
            except ApiError:
                raise error from None
            page.status_code = error.status
            return page
        raise error

    # -- the container itself -----------------------------------------------------------------
    def container_page(self, slash: bool) -> Response | None:
        """The site's root; None when the container is no web site (a plain listing then)."""
        if not access.allowed(self.req, self.store, self.account, self.container):
            return self._error_page(access.refusal(self.req))
        if not self.listings and not self.index:
            if self.req.headers.get("x-web-mode", "f").lower() in TRUE:
                raise errors.ResourceNotFound()
            return None
        if not slash:
            return self._redirect("")
        if not self.index:
            return self._listing("")
        try:
            return self.serve(self.req, self.account, self.container, self.index)
        except ApiError as error:
            if error.status == 404:
                return self._listing("")
            return self._error_page(error)

    # -- a path in it -------------------------------------------------------------------------
    def object_page(self, obj: str, original: ApiError | None, found: Response | None) -> Response:
        """``obj`` as the site serves it, given the plain GET's answer (``found``) or error."""
        if found is not None:
            length = int(found.headers.get("content-length") or 0)
            if found.headers.get("content-type") != self.directory_type or length > 1:
                return found
            original = errors.ResourceNotFound()
        assert original is not None
        if original.status != 404:
            raise original  # Swift serves its error pages for a 404 only here
        if not self.listings and not self.index:
            raise original
        if self.index:
            directory = obj if obj.endswith("/") else obj + "/"
            try:
                page = self.serve(self.req, self.account, self.container, directory + self.index)
            except ApiError as error:
                if error.status != 404:
                    raise original from None
            else:
                return page if obj.endswith("/") else self._redirect(obj)
        if obj.endswith("/"):
            return self._listing(obj)
        if not self._rows(obj + "/", limit=1):
            return self._error_page(errors.ResourceNotFound())
        return self._redirect(obj)

    def _rows(self, prefix: str, limit: int = listing.LIMIT) -> list[dict]:
        found = self.store.container(self.account, self.container)
        if found is None:
            return []
        return found[0].list(limit=limit, marker="", end_marker="", prefix=prefix, delimiter="/", reverse=False)

    def _label(self) -> str:
        """Swift's listing title: the request's path from ``/v1`` on, or the container's label."""
        path = self.req.raw.url.path.removeprefix(self.req.attributes.get("service_path", ""))
        return f"{self.label}/" + "/".join(path.split("/")[4:]) if self.label else path

    def _css_link(self, prefix: str) -> str:
        if self.css.startswith(("/", "http://", "https://")):
            href = quote(self.css, safe=":/")
        else:
            href = "../" * prefix.count("/") + quote(self.css)
        return f'  <link rel="stylesheet" type="text/css" href="{href}" />\n'

    def _listing(self, prefix: str) -> Response:
        """The HTML listing of ``prefix`` (Swift's markup), or why there is none."""
        label = html.escape(self._label())
        if self.listings.lower() not in TRUE:
            return self._error_page(ApiError(self._disabled(label, prefix), status=404))
        if not access.allowed(self.req, self.store, self.account, self.container):
            return self._error_page(access.refusal(self.req))
        rows = [listing.object_entry(row) for row in self._rows(prefix)]
        if prefix and not rows:
            return self._error_page(errors.ResourceNotFound())
        out = ["<!DOCTYPE html>\n<html>\n <head>\n", f"  <title>Listing of {label}</title>\n"]
        out.append(self._css_link(prefix) if self.css else (
            '  <style type="text/css">\n   h1 {font-size: 1em; font-weight: bold;}\n'
            "   th {text-align: left; padding: 0px 1em 0px 1em;}\n   td {padding: 0px 1em 0px 1em;}\n"
            "   a {text-decoration: none;}\n  </style>\n"))
        out.append(f' </head>\n <body>\n  <h1 id="title">Listing of {label}</h1>\n  <table id="listing">\n'
                   '   <tr id="heading">\n    <th class="colname">Name</th>\n    <th class="colsize">Size</th>\n'
                   '    <th class="coldate">Date</th>\n   </tr>\n')
        if prefix:
            out.append('   <tr id="parent" class="item">\n    <td class="colname"><a href="../">../</a></td>\n'
                       '    <td class="colsize">&nbsp;</td>\n    <td class="coldate">&nbsp;</td>\n   </tr>\n')
        for row in rows:
            if "subdir" in row:
                name = row["subdir"][len(prefix):]
                out.append(f'   <tr class="item subdir">\n    <td class="colname"><a href="./'
                           f'{_href(name)}">{html.escape(name)}</a></td>\n    <td class="colsize">&nbsp;</td>\n'
                           '    <td class="coldate">&nbsp;</td>\n   </tr>\n')
        for row in rows:
            if "name" in row:
                name = row["name"][len(prefix):]
                kinds = " ".join("type-" + html.escape(t.lower()) for t in row["content_type"].split("/"))
                modified = html.escape(row["last_modified"]).split(".")[0].replace("T", " ")
                out.append(f'   <tr class="item {kinds}">\n    <td class="colname"><a href="./{_href(name)}">'
                           f'{html.escape(name)}</a></td>\n    <td class="colsize">{human_readable(row["bytes"])}'
                           f'</td>\n    <td class="coldate">{modified}</td>\n   </tr>\n')
        out.append("  </table>\n </body>\n</html>\n")
        return Response("".join(out).encode(), media_type="text/html; charset=UTF-8")

    def _disabled(self, label: str, prefix: str) -> str:
        out = f"<!DOCTYPE html>\n<html>\n<head>\n<title>Listing of {label}</title>\n"
        out += self._css_link(prefix) if self.css else (
            '  <style type="text/css">\n   h1 {font-size: 1em; font-weight: bold;}\n   p {font-size: 2}\n'
            "  </style>\n")
        out += ("</head>\n<body>  <h1>Web Listing Disabled</h1>   <p>The owner of this web site has disabled "
                "web listing.   <p>If you are the owner of this web site, you can enable   web listing by "
                "setting X-Container-Meta-Web-Listings.</p>")
        if self.index:
            out += (f"<h1>Index File Not Found</h1> <p>The owner of this web site has set  <b>X-Container-Meta-"
                    f"Web-Index: {self.index}</b>.  However, this file is not found.</p>")
        return out + " </body>\n</html>\n"


def _href(name: str) -> str:
    return quote(name).replace(".", "%2E")
