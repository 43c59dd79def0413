"""The dashboard: a server-rendered web UI for the whole cloud under ``/dashboard``.

It acts for the logged-in user only through the cloud's public APIs with the user's own
token (:meth:`pocketstack.cloud.Cloud.api_client`): the same routes, policies and
validation a remote client meets.  Sessions live in the database; pages are Jinja2
templates with a little progressive-enhancement JavaScript and one stylesheet shipped in
the package (``static/``).  See docs/dashboard.md.
"""
