"""WebSSO: how a browser signing in at an identity provider ends with a token in the
dashboard (keystone/api/auth.py's ``websso`` routes).

The dashboard sends the browser to ``/v3/auth/OS-FEDERATION/websso/{protocol}?origin=``
(or the identity provider's own ``.../protocols/{protocol}/websso``); ``origin`` must be
one of ``federation_trusted_dashboards`` (Keystone's ``[federation] trusted_dashboard``,
compared with the host name lower-cased).  After the identity provider's round trip the
answer is Keystone's ``sso_callback_template``: an HTML form that posts the unscoped
token to ``origin`` by itself (``federation_sso_callback_template`` names another file,
a ``string.Template`` with ``$host`` and ``$token`` as Keystone's).
"""

from __future__ import annotations

import html
import string
from dataclasses import dataclass
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from pocketstack.identity import errors

# keystone/assets/sso_callback_template.html
CALLBACK_TEMPLATE = """<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml">
  <head>
    <title>Keystone WebSSO redirect</title>
  </head>
  <body>
     <form id="sso" name="sso" action="$host" method="post">
       Please wait...
       <br/>
       <input type="hidden" name="token" id="token" value="$token"/>
       <noscript>
         <input type="submit" name="submit_no_javascript" id="submit_no_javascript"
            value="If your JavaScript is disabled, please click to continue"/>
       </noscript>
     </form>
     <script type="text/javascript">
       window.onload = function() {
         document.forms['sso'].submit();
       }
     </script>
  </body>
</html>
"""


def lower_case_hostname(url: str) -> str:
    """``url`` with its host name lower-cased (keystone.common.utils.lower_case_hostname)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.lower()))


@dataclass(frozen=True)
class WebSso:
    trusted_dashboards: tuple[str, ...] = ()
    template: str = CALLBACK_TEMPLATE

    @classmethod
    def from_settings(cls, dashboards: str, template_file: str) -> WebSso:
        template = CALLBACK_TEMPLATE
        if template_file:
            try:
                with open(template_file, encoding="utf-8") as fh:
                    template = fh.read()
            except OSError as exc:
                raise ValueError(f"setting 'federation_sso_callback_template': {exc}") from None
        return cls(tuple(lower_case_hostname(d.strip()) for d in dashboards.split(",") if d.strip()), template)

    def origin(self, query_origin: str | None) -> str:
        """The trusted dashboard a sign-in's ``origin`` names: 400 without one, 401 for
        one not trusted (Keystone's sentences)."""
        if not query_origin:
            raise errors.ValidationMessage(message="Request must have an origin query parameter")
        host = unquote_plus(query_origin)
        if host not in self.trusted_dashboards:
            raise errors.UntrustedDashboard(host=host)
        return host

    def callback(self, host: str, token: str) -> str:
        """The page that posts ``token`` to the dashboard ``host``."""
        return string.Template(self.template).safe_substitute(host=html.escape(host), token=html.escape(token))
