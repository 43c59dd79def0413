"""Domain-specific configuration (Keystone's ``domain_config_api``): the ``identity``
and ``ldap`` options a domain sets for itself through ``/v3/domains/{id}/config``.

Only Keystone's whitelisted options are accepted (anything else is a 403
``InvalidDomainConfig``); ``ldap.password`` is *sensitive*: stored, used to bind, never
shown.  A domain whose ``identity.driver`` is ``ldap`` reads its users and groups from
its directory (:mod:`~pocketstack.identity.ldap_backend`).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.db import Database
from pocketstack.identity import errors
from pocketstack.identity import models as m

# keystone/resource/core.py DomainConfigManager.whitelisted_options, with the defaults of
# keystone/conf/identity.py and keystone/conf/ldap.py (what /v3/domains/config/default shows).
WHITELISTED: dict[str, dict[str, Any]] = {
    "identity": {"driver": "sql", "list_limit": None},
    "ldap": {
        "url": "ldap://localhost", "user": None, "suffix": "cn=example,cn=com", "query_scope": "one",
        "page_size": 0, "alias_dereferencing": "default", "debug_level": None, "chase_referrals": None,
        "user_tree_dn": None, "user_filter": None, "user_objectclass": "inetOrgPerson", "user_id_attribute": "cn",
        "user_name_attribute": "sn", "user_mail_attribute": "mail", "user_description_attribute": "description",
        "user_pass_attribute": "userPassword", "user_enabled_attribute": "enabled", "user_enabled_invert": False,
        "user_enabled_mask": 0, "user_enabled_default": "True", "user_attribute_ignore": ["default_project_id"],
        "user_default_project_id_attribute": None, "user_enabled_emulation": False,
        "user_enabled_emulation_dn": None, "user_enabled_emulation_use_group_config": False,
        "user_additional_attribute_mapping": [], "group_tree_dn": None, "group_filter": None,
        "group_objectclass": "groupOfNames", "group_id_attribute": "cn", "group_name_attribute": "ou",
        "group_members_are_ids": False, "group_member_attribute": "member", "group_desc_attribute": "description",
        "group_attribute_ignore": [], "group_additional_attribute_mapping": [], "tls_cacertfile": None,
        "tls_cacertdir": None, "use_tls": False, "tls_req_cert": "demand", "use_pool": True, "pool_size": 10,
        "pool_retry_max": 3, "pool_retry_delay": 0.1, "pool_connection_timeout": -1,
        "pool_connection_lifetime": 600, "use_auth_pool": True, "auth_pool_size": 100,
        "auth_pool_connection_lifetime": 60,
    },
}
SENSITIVE: dict[str, tuple[str, ...]] = {"identity": (), "ldap": ("password",)}

Config = dict[str, dict[str, Any]]


def _is_sensitive(group: str, option: str) -> bool:
    return option in SENSITIVE.get(group, ())


def check_group_and_option(group: str | None, option: str | None) -> None:
    """Keystone's ``_assert_valid_group_and_option``: 403 for a group or option it does
    not let a domain set."""
    if group is None:
        return
    if group not in WHITELISTED and group not in SENSITIVE:
        raise errors.InvalidDomainConfig(reason=f"Group {group} is not supported for domain specific "
                                                "configurations")
    if option is not None and option not in WHITELISTED[group] and not _is_sensitive(group, option):
        raise errors.InvalidDomainConfig(reason=f"Option {option} in group {group} is not supported for domain "
                                                "specific configurations")


def check_config(config: Any) -> Config:
    """Keystone's ``_assert_valid_config`` (values are not checked: Keystone stores any
    driver name; here one other than ``ldap`` reads the SQL tables)."""
    if not config or not isinstance(config, dict):
        raise errors.InvalidDomainConfig(reason="No options specified")
    for group, options in config.items():
        if not options or not isinstance(options, dict):
            raise errors.InvalidDomainConfig(reason=f"The value of group {group} specified in the config should be "
                                                    "a dictionary of options")
        for option in options:
            check_group_and_option(group, option)
    return config


def _missing(domain_id: str, group: str | None, option: str | None) -> errors.DomainConfigNotFound:
    what = (f"option {option} in group {group}" if option else f"group {group}" if group else "any options")
    return errors.DomainConfigNotFound(domain_id=domain_id, group_or_option=what)


class DomainConfigManager:
    def __init__(self, db: Database):
        self.db = db

    @staticmethod
    def _rows(s: Session, domain_id: str, group: str | None = None, option: str | None = None,
              sensitive: bool | None = False) -> list[m.DomainConfigOption]:
        stmt = sa.select(m.DomainConfigOption).where(m.DomainConfigOption.domain_id == domain_id)
        if group is not None:
            stmt = stmt.where(m.DomainConfigOption.group == group)
        if option is not None:
            stmt = stmt.where(m.DomainConfigOption.option == option)
        if sensitive is not None:
            stmt = stmt.where(m.DomainConfigOption.sensitive.is_(sensitive))
        return list(s.scalars(stmt.order_by(m.DomainConfigOption.group, m.DomainConfigOption.option)))

    @staticmethod
    def _as_config(rows: list[m.DomainConfigOption]) -> Config:
        config: Config = {}
        for row in rows:
            config.setdefault(row.group, {})[row.option] = row.value
        return config

    def _shown(self, s: Session, domain_id: str) -> Config:
        return self._as_config(self._rows(s, domain_id))

    def with_sensitive(self, domain_id: str) -> Config:
        """The whole configuration, the password included: for the LDAP driver only."""
        with self.db.session(readonly=True) as s:
            return self._as_config(self._rows(s, domain_id, sensitive=None))

    def get(self, domain_id: str, group: str | None = None, option: str | None = None) -> Any:
        """``GET /config[/group[/option]]``: never a sensitive option (asking for one is a
        404, as if unset)."""
        check_group_and_option(group, option)
        with self.db.session(readonly=True) as s:
            rows = self._rows(s, domain_id, group, option)
        if not rows:
            raise _missing(domain_id, group, option)
        return {rows[0].option: rows[0].value} if option else self._as_config(rows)

    def create(self, domain_id: str, config: Any) -> tuple[Config, bool]:
        """``PUT``: replaces the whole configuration; also says whether there was one."""
        config = check_config(config)
        with self.db.session() as s:
            existed = bool(self._rows(s, domain_id, sensitive=None))
            s.execute(sa.delete(m.DomainConfigOption).where(m.DomainConfigOption.domain_id == domain_id))
            s.flush()
            self._store(s, domain_id, config)
            s.flush()
            return self._shown(s, domain_id), existed

    @staticmethod
    def _store(s: Session, domain_id: str, config: Config) -> None:
        for group, options in config.items():
            for option, value in options.items():
                s.merge(m.DomainConfigOption(domain_id=domain_id, group=group, option=option, value=value,
                                             sensitive=_is_sensitive(group, option)))

    def update(self, domain_id: str, config: Any, group: str | None = None, option: str | None = None) -> Config:
        """``PATCH``: merges; a group or option in the path must be the only one in the
        body and must already be set (Keystone's ``update_config``)."""
        if group is not None and option is not None:
            config = {group: config}
        config = check_config(config)
        check_group_and_option(group, option)
        with self.db.session() as s:
            if group is not None:
                self._check_update_target(s, domain_id, config, group, option)
            self._store(s, domain_id, config)
            s.flush()
            return self._shown(s, domain_id)

    def _check_update_target(self, s: Session, domain_id: str, config: Config, group: str,
                             option: str | None) -> None:
        if len(config) != 1 or (option and len(config.get(group, {})) != 1):
            reason = (f"Trying to update option {option} in group {group}, so that, and only that, option must be "
                      "specified  in the config" if option else
                      f"Trying to update group {group}, so that, and only that, group must be specified in the config")
            raise errors.InvalidDomainConfig(reason=reason)
        if group not in config:
            raise errors.InvalidDomainConfig(reason=f"request to update group {group}, but config provided contains "
                                                    f"group {next(iter(config))} instead")
        if option and option not in config[group]:
            raise errors.InvalidDomainConfig(reason=f"Trying to update option {option} in group {group}, but config "
                                                    f"provided contains option {next(iter(config[group]))} instead")
        if not self._rows(s, domain_id, group, option, sensitive=None):
            raise _missing(domain_id, group, option)

    def delete(self, domain_id: str, group: str | None = None, option: str | None = None) -> None:
        check_group_and_option(group, option)
        with self.db.session() as s:
            if group is not None and not self._rows(s, domain_id, group, option, sensitive=None):
                raise _missing(domain_id, group, option)
            self.forget(s, domain_id, group, option)

    @staticmethod
    def forget(s: Session, domain_id: str, group: str | None = None, option: str | None = None) -> None:
        """Delete a domain's options (all of them when its domain goes)."""
        stmt = sa.delete(m.DomainConfigOption).where(m.DomainConfigOption.domain_id == domain_id)
        if group is not None:
            stmt = stmt.where(m.DomainConfigOption.group == group)
        if option is not None:
            stmt = stmt.where(m.DomainConfigOption.option == option)
        s.execute(stmt)

    @staticmethod
    def default(group: str | None = None, option: str | None = None) -> Any:
        """``/v3/domains/config[/group[/option]]/default``: the whitelisted options'
        defaults (a sensitive option has none to show)."""
        check_group_and_option(group, option)
        if group is None:
            return {g: dict(options) for g, options in WHITELISTED.items()}
        if option is None:
            return {group: dict(WHITELISTED[group])}
        if option not in WHITELISTED[group]:
            raise errors.InvalidDomainConfig(reason=f"Reading the default for option {option} in group {group} is "
                                                    "not supported")
        return {option: WHITELISTED[group][option]}
