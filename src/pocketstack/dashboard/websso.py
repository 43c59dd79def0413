"""Single sign-on choices of the login page, as Horizon's ``WEBSSO_CHOICES`` and
``WEBSSO_IDP_MAPPING`` configure them (settings ``dashboard_websso_choices`` and
``dashboard_websso_idp_mapping``).

A choice other than ``credentials`` sends the browser to Keystone's WebSSO URL -- the
protocol's (``/v3/auth/OS-FEDERATION/websso/{protocol}``) or, for a choice mapped to an
identity provider, that provider's -- with ``origin`` the dashboard's ``/auth/websso/``,
where Keystone's page posts the token back (pages/auth.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from pocketstack.common.config import Settings

CREDENTIALS = "credentials"
IDENTITY_PATH = "/identity"


@dataclass(frozen=True)
class SsoChoice:
    """One "Authenticate using" button: a protocol, and maybe an identity provider."""

    id: str
    label: str
    protocol_id: str
    idp_id: str | None = None

    def keystone_url(self, identity_url: str, origin: str) -> str:
        base = identity_url + "/v3/auth/OS-FEDERATION"
        if self.idp_id:
            path = f"/identity_providers/{quote(self.idp_id, safe='')}/protocols/{quote(self.protocol_id, safe='')}"
            return f"{base}{path}/websso?{urlencode({'origin': origin})}"
        return f"{base}/websso/{quote(self.protocol_id, safe='')}?{urlencode({'origin': origin})}"


def _pairs(text: str, setting: str) -> list[tuple[str, str]]:
    pairs = []
    for item in (i.strip() for i in text.split(",")):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"setting '{setting}': expected 'id=value' items, got {item!r}")
        pairs.append((key.strip(), value.strip()))
    return pairs


@dataclass(frozen=True)
class SsoSettings:
    """What the login page offers: the credential forms or not, and the SSO choices."""

    credentials: bool = True
    choices: tuple[SsoChoice, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> SsoSettings:
        mapping = {}
        for choice_id, target in _pairs(settings.dashboard_websso_idp_mapping, "dashboard_websso_idp_mapping"):
            idp_id, sep, protocol_id = target.partition(":")
            if not sep or not idp_id or not protocol_id:
                raise ValueError(f"setting 'dashboard_websso_idp_mapping': expected 'id=idp_id:protocol_id', "
                                 f"got {choice_id}={target}")
            mapping[choice_id] = (idp_id, protocol_id)
        pairs = _pairs(settings.dashboard_websso_choices, "dashboard_websso_choices")
        if not pairs:
            return cls()
        choices = tuple(SsoChoice(choice_id, label, *(mapping[choice_id][::-1] if choice_id in mapping
                                                      else (choice_id, None)))
                        for choice_id, label in pairs if choice_id != CREDENTIALS)
        return cls(credentials=any(choice_id == CREDENTIALS for choice_id, _ in pairs), choices=choices)

    def choice(self, choice_id: str) -> SsoChoice | None:
        return next((c for c in self.choices if c.id == choice_id), None)
