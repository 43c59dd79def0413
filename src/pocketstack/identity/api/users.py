"""``/v3/users`` (with password, projects, groups, application credentials) and
``/v3/groups`` (with members)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.identity import errors
from pocketstack.identity import models as m
from pocketstack.identity.api import render, schemas
from pocketstack.identity.api.common import body, caller_id, filters
from pocketstack.identity.api.delegation import refuse_restricted, refuse_trust_or_oauth
from pocketstack.identity.api.entities import Family, crud_rules
from pocketstack.identity.api.resources import tags_of
from pocketstack.identity.manager import Identity

USER_FIELDS = frozenset({"name", "domain_id", "password", "enabled", "default_project_id", "description", "options"})
GROUP_FIELDS = frozenset({"name", "domain_id", "description"})


def rendered(render_one):
    """A family's ``render`` from a one-entity renderer."""
    return lambda base, items: [render_one(base, item) for item in items]


def users(identity: Identity) -> Family:
    manager = identity.users
    return Family(
        key="user", plural="users", fields=USER_FIELDS, create_schema=schemas.user_create,
        update_schema=schemas.user_update, rules=crud_rules("user", "users"),
        find=manager.list_users, fetch=manager.get_user, add=lambda own, extra: manager.create_user(extra=extra, **own),
        change=manager.update_user, remove=manager.delete_user, render=rendered(render.user),
        filters=("name", "domain_id", "enabled"), scoped_list=True,
        target=lambda user_id: user_target(identity, user_id))


def groups(identity: Identity) -> Family:
    manager = identity.users

    def add(own: dict, extra: dict) -> m.Group:
        return manager.create_group(name=own["name"], domain_id=own.get("domain_id"),
                                    description=own.get("description") or "", extra=extra)

    return Family(
        key="group", plural="groups", fields=GROUP_FIELDS, create_schema=schemas.group_create,
        update_schema=schemas.group_update, rules=crud_rules("group", "groups"),
        find=manager.list_groups, fetch=manager.get_group, add=add, change=manager.update_group,
        remove=manager.delete_group, render=rendered(render.group), filters=("name", "domain_id"),
        scoped_list=True, target=lambda group_id: {"target.group.domain_id": manager.get_group(group_id).domain_id})


def user_target(identity: Identity, user_id: str) -> dict[str, Any]:
    """What the user rules are checked on: the user and, when it exists, its domain."""
    try:
        user = identity.users.get_user(user_id)
    except errors.NotFound:
        return {"target.user.id": user_id}
    return {"target.user.id": user.id, "target.user.domain_id": user.domain_id}


class UserLinksApi:
    """A user's password, projects and groups."""

    def __init__(self, identity: Identity):
        self.identity = identity

    @route.post("/v3/users/{user_id}/password", public=True, body=schemas.password_change)
    def change_password(self, req: ApiRequest) -> None:
        # Authenticated by the original password, like Keystone, so an expired password
        # can still be changed.
        change = req.data["user"]
        self.identity.users.change_password(req.path_params["user_id"], change["original_password"],
                                            change["password"])

    @route.get("/v3/users/{user_id}/projects", policy="identity:list_user_projects")
    def projects(self, req: ApiRequest) -> dict:
        identity, user_id = self.identity, req.path_params["user_id"]
        req.authorize(target=user_target(identity, user_id))
        identity.users.get_user(user_id)
        projects = identity.assignment.projects_for_user(user_id)
        wanted = filters(req, ("name", "domain_id", "enabled"))
        projects = [p for p in projects if all(getattr(p, k) == v for k, v in wanted.items())]
        tags = tags_of(identity, [p.id for p in projects])
        return render.collection(req.service_url, f"users/{user_id}/projects", "projects",
                                 [render.project(req.service_url, p, tags[p.id]) for p in projects])

    @route.get("/v3/users/{user_id}/groups", policy="identity:list_groups_for_user")
    def groups(self, req: ApiRequest) -> dict:
        user_id = req.path_params["user_id"]
        req.authorize(target=user_target(self.identity, user_id))
        groups = self.identity.users.list_groups({}, user_id)
        return render.collection(req.service_url, f"users/{user_id}/groups", "groups",
                                 [render.group(req.service_url, g) for g in groups])


MEMBER = "/v3/groups/{group_id}/users/{user_id}"


class GroupMembersApi:
    """``/v3/groups/{group_id}/users``: a group's members."""

    def __init__(self, identity: Identity):
        self.users = identity.users

    @route.get("/v3/groups/{group_id}/users", policy="identity:list_users_in_group")
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        group_id = req.path_params["group_id"]
        return render.collection(req.service_url, f"groups/{group_id}/users", "users",
                                 [render.user(req.service_url, u) for u in self.users.list_members(group_id)])

    @route.put(MEMBER, policy="identity:manage_group_membership")
    def add(self, req: ApiRequest) -> None:
        req.authorize()
        self.users.add_member(req.path_params["group_id"], req.path_params["user_id"])

    @route.head(MEMBER, policy="identity:check_user_in_group")
    @route.get(MEMBER, policy="identity:check_user_in_group")
    def check(self, req: ApiRequest) -> None:
        req.authorize()
        self.users.check_member(req.path_params["group_id"], req.path_params["user_id"])

    @route.delete(MEMBER, policy="identity:manage_group_membership")
    def remove(self, req: ApiRequest) -> None:
        req.authorize()
        self.users.remove_member(req.path_params["group_id"], req.path_params["user_id"])


APP_CREDS = "/v3/users/{user_id}/application_credentials"


class ApplicationCredentialsApi:
    """``/v3/users/{user_id}/application_credentials``."""

    def __init__(self, identity: Identity):
        self.identity = identity
        self.app_creds = identity.app_creds

    @route.get(APP_CREDS, policy="identity:list_application_credentials")
    def index(self, req: ApiRequest) -> dict:
        user_id = req.path_params["user_id"]
        req.authorize(target={"target.user.id": user_id})
        refuse_trust_or_oauth(req)
        creds = self.app_creds.list_for(user_id, req.query.get("name"))
        return render.collection(req.service_url, f"users/{user_id}/application_credentials",
                                 "application_credentials",
                                 [render.app_cred(req.service_url, c, self.app_creds.rules_of(c.id)) for c in creds])

    @route.post(APP_CREDS, policy="identity:create_application_credential")
    def create(self, req: ApiRequest):
        identity, user_id = self.identity, req.path_params["user_id"]
        req.authorize(target={"target.user.id": user_id})
        ctx = req.caller
        refuse_trust_or_oauth(req)
        refuse_restricted(identity, req, "application credentials")
        fields = body(req, schemas.app_cred_create, "application_credential")
        with identity.db.session(readonly=True) as s:
            caller_roles = (identity.assignment.effective_roles(
                s, caller_id(req), project=identity.resource.load_project(s, ctx.project_id))
                if ctx.project_id else [])
        caller_roles = [r for r in caller_roles if r.id in ctx.role_ids]
        cred, secret = self.app_creds.create(
            user_id=user_id, project_id=ctx.project_id, caller_roles=caller_roles, name=fields["name"],
            secret=fields.get("secret"), description=fields.get("description"),
            expires_at=parse_expiry(fields.get("expires_at")), unrestricted=bool(fields.get("unrestricted")),
            requested_roles=fields.get("roles"), access_rules=fields.get("access_rules"))
        rules = self.app_creds.rules_of(cred.id)
        return json_response({"application_credential": render.app_cred(req.service_url, cred, rules, secret)},
                             status=201)

    @route.get(APP_CREDS + "/{cred_id}", policy="identity:get_application_credential")
    def show(self, req: ApiRequest) -> dict:
        user_id = req.path_params["user_id"]
        req.authorize(target={"target.user.id": user_id})
        refuse_trust_or_oauth(req)
        cred = self.app_creds.get(user_id, req.path_params["cred_id"])
        return {"application_credential": render.app_cred(req.service_url, cred, self.app_creds.rules_of(cred.id))}

    @route.delete(APP_CREDS + "/{cred_id}", policy="identity:delete_application_credential")
    def delete(self, req: ApiRequest) -> None:
        user_id = req.path_params["user_id"]
        req.authorize(target={"target.user.id": user_id})
        refuse_trust_or_oauth(req)
        refuse_restricted(self.identity, req, "application credentials")
        self.app_creds.delete(user_id, req.path_params["cred_id"])


ACCESS_RULES = "/v3/users/{user_id}/access_rules"


class AccessRulesApi:
    """``/v3/users/{user_id}/access_rules``: the rules a user's application credentials
    carry (made with them, never on their own)."""

    def __init__(self, identity: Identity):
        self.rules = identity.access_rules

    @route.get(ACCESS_RULES, policy="identity:list_access_rules")
    def index(self, req: ApiRequest) -> dict:
        user_id = req.path_params["user_id"]
        req.authorize(target={"target.user.id": user_id})
        refuse_trust_or_oauth(req)
        filters = {name: req.query.get(name, "") for name in ("service", "path", "method")}
        return render.collection(req.service_url, f"users/{user_id}/access_rules", "access_rules",
                                 [render.access_rule(req.service_url, user_id, r)
                                  for r in self.rules.list_for(user_id, filters)])

    @route.get(ACCESS_RULES + "/{rule_id}", policy="identity:get_access_rule")
    def show(self, req: ApiRequest) -> dict:
        user_id = req.path_params["user_id"]
        req.authorize(target={"target.user.id": user_id})
        refuse_trust_or_oauth(req)
        rule = self.rules.get(user_id, req.path_params["rule_id"])
        return {"access_rule": render.access_rule(req.service_url, user_id, rule)}

    @route.delete(ACCESS_RULES + "/{rule_id}", policy="identity:delete_access_rule")
    def delete(self, req: ApiRequest) -> None:
        user_id = req.path_params["user_id"]
        req.authorize(target={"target.user.id": user_id})
        refuse_trust_or_oauth(req)
        self.rules.delete(user_id, req.path_params["rule_id"])


def parse_expiry(value: str | None) -> dt.datetime | None:
    """An application credential's ``expires_at``: ISO 8601, stored as naive UTC."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise errors.InvalidInput(field="expires_at", reason=f"{value!r} is not an ISO 8601 time.") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return parsed
