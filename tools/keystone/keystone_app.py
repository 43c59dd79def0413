"""Keystone's WSGI app for gunicorn.

Keystone parses ``sys.argv`` with oslo.config when it builds the app, and would
reject gunicorn's own command line; hide it first.
"""

import sys

sys.argv = sys.argv[:1]

from keystone.wsgi.api import application  # noqa: E402,F401
