"""``/v3/users`` (with password, projects, groups, application credentials) and
``/v3/groups``."""

from __future__ import annotations

import datetime as dt

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import Router
from pocketstack.common.errors import BadRequest, Forbidden, NotFound
from pocketstack.identity.api import render, schemas
from pocketstack.identity.api.common import body, filters, split_extra
from pocketstack.identity.manager import Identity

USER_FIELDS = {"name", "domain_id", "password", "enabled", "default_project_id", "description", "options"}
GROUP_FIELDS = {"name", "domain_id", "description"}


def register(router: Router, identity: Identity) -> None:
    users = identity.users

    def user_target(user_id: str) -> dict:
        try:
            user = users.get_user(user_id)
        except NotFound:
            return {"target.user.id": user_id}
        return {"target.user.id": user.id, "target.user.domain_id": user.domain_id}

    # -- users -----------------------------------------------------------------------
    @router.get("/v3/users")
    def list_users(req: ApiRequest):
        wanted = filters(req, ("name", "domain_id", "enabled"))
        req.authorize("identity:list_users", {"target.domain_id": wanted.get("domain_id")})
        return render.collection(req.service_url, "users", "users",
                                 [render.user(req.service_url, u) for u in users.list_users(wanted)])

    @router.post("/v3/users")
    def create_user(req: ApiRequest):
        req.authorize("identity:create_user")
        own, extra = split_extra(body(req, schemas.user_create, "user"), USER_FIELDS)
        user = users.create_user(extra=extra, **own)
        return json_response({"user": render.user(req.service_url, user)}, status=201)

    @router.get("/v3/users/{user_id}")
    def get_user(req: ApiRequest):
        target = user_target(req.path_params["user_id"])
        req.authorize("identity:get_user", target)
        return {"user": render.user(req.service_url, users.get_user(req.path_params["user_id"]))}

    @router.patch("/v3/users/{user_id}")
    def update_user(req: ApiRequest):
        req.authorize("identity:update_user")
        own, extra = split_extra(body(req, schemas.user_update, "user"), USER_FIELDS)
        if extra:
            own["extra"] = extra
        return {"user": render.user(req.service_url, users.update_user(req.path_params["user_id"], own))}

    @router.delete("/v3/users/{user_id}")
    def delete_user(req: ApiRequest):
        req.authorize("identity:delete_user")
        users.delete_user(req.path_params["user_id"])

    @router.post("/v3/users/{user_id}/password", public=True)
    def change_password(req: ApiRequest):
        # Authenticated by the original password, like Keystone, so an expired password
        # can still be changed.
        change = body(req, schemas.password_change, "user")
        users.change_password(req.path_params["user_id"], change["original_password"], change["password"])

    @router.get("/v3/users/{user_id}/projects")
    def user_projects(req: ApiRequest):
        user_id = req.path_params["user_id"]
        req.authorize("identity:list_user_projects", user_target(user_id))
        users.get_user(user_id)
        projects = identity.assignment.projects_for_user(user_id)
        wanted = filters(req, ("name", "domain_id", "enabled"))
        projects = [p for p in projects if all(getattr(p, k) == v for k, v in wanted.items())]
        with identity.db.session(readonly=True) as s:
            tags = identity.resource.tags(s, [p.id for p in projects])
        return render.collection(req.service_url, f"users/{user_id}/projects", "projects",
                                 [render.project(req.service_url, p, tags[p.id]) for p in projects])

    @router.get("/v3/users/{user_id}/groups")
    def user_groups(req: ApiRequest):
        user_id = req.path_params["user_id"]
        req.authorize("identity:list_groups_for_user", user_target(user_id))
        return render.collection(req.service_url, f"users/{user_id}/groups", "groups",
                                 [render.group(req.service_url, g) for g in users.list_groups({}, user_id)])

    # -- groups ----------------------------------------------------------------------
    @router.get("/v3/groups")
    def list_groups(req: ApiRequest):
        wanted = filters(req, ("name", "domain_id"))
        req.authorize("identity:list_groups", {"target.domain_id": wanted.get("domain_id")})
        return render.collection(req.service_url, "groups", "groups",
                                 [render.group(req.service_url, g) for g in users.list_groups(wanted)])

    @router.post("/v3/groups")
    def create_group(req: ApiRequest):
        req.authorize("identity:create_group")
        own, extra = split_extra(body(req, schemas.group_create, "group"), GROUP_FIELDS)
        group = users.create_group(name=own["name"], domain_id=own.get("domain_id"),
                                   description=own.get("description") or "", extra=extra)
        return json_response({"group": render.group(req.service_url, group)}, status=201)

    @router.get("/v3/groups/{group_id}")
    def get_group(req: ApiRequest):
        group = users.get_group(req.path_params["group_id"])
        req.authorize("identity:get_group", {"target.group.domain_id": group.domain_id})
        return {"group": render.group(req.service_url, group)}

    @router.patch("/v3/groups/{group_id}")
    def update_group(req: ApiRequest):
        req.authorize("identity:update_group")
        own, extra = split_extra(body(req, schemas.group_update, "group"), GROUP_FIELDS)
        if extra:
            own["extra"] = extra
        return {"group": render.group(req.service_url, users.update_group(req.path_params["group_id"], own))}

    @router.delete("/v3/groups/{group_id}")
    def delete_group(req: ApiRequest):
        req.authorize("identity:delete_group")
        users.delete_group(req.path_params["group_id"])

    @router.get("/v3/groups/{group_id}/users")
    def group_users(req: ApiRequest):
        req.authorize("identity:list_users_in_group")
        group_id = req.path_params["group_id"]
        return render.collection(req.service_url, f"groups/{group_id}/users", "users",
                                 [render.user(req.service_url, u) for u in users.list_members(group_id)])

    @router.put("/v3/groups/{group_id}/users/{user_id}")
    def add_member(req: ApiRequest):
        req.authorize("identity:manage_group_membership")
        users.add_member(req.path_params["group_id"], req.path_params["user_id"])

    @router.head("/v3/groups/{group_id}/users/{user_id}")
    def check_member(req: ApiRequest):
        req.authorize("identity:check_user_in_group")
        users.check_member(req.path_params["group_id"], req.path_params["user_id"])

    router.get("/v3/groups/{group_id}/users/{user_id}")(check_member)

    @router.delete("/v3/groups/{group_id}/users/{user_id}")
    def remove_member(req: ApiRequest):
        req.authorize("identity:manage_group_membership")
        users.remove_member(req.path_params["group_id"], req.path_params["user_id"])

    # -- application credentials -----------------------------------------------------
    base = "/v3/users/{user_id}/application_credentials"

    @router.get(base)
    def list_app_creds(req: ApiRequest):
        user_id = req.path_params["user_id"]
        req.authorize("identity:list_application_credentials", {"target.user.id": user_id})
        creds = identity.app_creds.list(user_id, req.query.get("name"))
        return render.collection(req.service_url, f"users/{user_id}/application_credentials",
                                 "application_credentials", [render.app_cred(req.service_url, c) for c in creds])

    @router.post(base)
    def create_app_cred(req: ApiRequest):
        user_id = req.path_params["user_id"]
        req.authorize("identity:create_application_credential", {"target.user.id": user_id})
        ctx = req.context
        _refuse_restricted_app_cred(identity, ctx)
        fields = body(req, schemas.app_cred_create, "application_credential")
        with identity.db.session(readonly=True) as s:
            caller_roles = (identity.assignment.effective_roles(s, ctx.user_id, project=identity.resource.load_project(
                s, ctx.project_id)) if ctx.project_id else [])
        caller_roles = [r for r in caller_roles if r.id in ctx.role_ids]
        cred, secret = identity.app_creds.create(
            user_id=user_id, project_id=ctx.project_id, caller_roles=caller_roles, name=fields["name"],
            secret=fields.get("secret"), description=fields.get("description"),
            expires_at=_parse_time(fields.get("expires_at")), unrestricted=bool(fields.get("unrestricted")),
            requested_roles=fields.get("roles"))
        return json_response({"application_credential": render.app_cred(req.service_url, cred, secret)},
                             status=201)

    @router.get(base + "/{cred_id}")
    def get_app_cred(req: ApiRequest):
        user_id = req.path_params["user_id"]
        req.authorize("identity:get_application_credential", {"target.user.id": user_id})
        cred = identity.app_creds.get(user_id, req.path_params["cred_id"])
        return {"application_credential": render.app_cred(req.service_url, cred)}

    @router.delete(base + "/{cred_id}")
    def delete_app_cred(req: ApiRequest):
        user_id = req.path_params["user_id"]
        req.authorize("identity:delete_application_credential", {"target.user.id": user_id})
        _refuse_restricted_app_cred(identity, req.context)
        identity.app_creds.delete(user_id, req.path_params["cred_id"])
        return Response(status_code=204)


def _refuse_restricted_app_cred(identity: Identity, ctx) -> None:
    """A token from a restricted application credential may not manage application
    credentials at all -- not even delete itself (Keystone's rule: otherwise a leaked
    restricted credential could be used to cover its own tracks or mint new ones)."""
    if ctx.application_credential_id:
        current = identity.app_creds.get(ctx.user_id, ctx.application_credential_id)
        if not current.unrestricted:
            raise Forbidden("You are not authorized to perform the requested action: Using method "
                            "'application_credential' is not allowed for managing additional "
                            "application credentials.")


def _parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"Invalid input for field 'expires_at': {value!r} is not an ISO 8601 time.") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return parsed
