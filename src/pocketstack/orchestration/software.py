"""Software configs and deployments (``/software_configs``, ``/software_deployments``):
what a server's agent is to apply, and how that went.

A config is immutable (Heat's); a deployment ties one to a server and records the
agent's progress (action, status, outputs).  ``metadata(server_id)`` is what the agent
polls: every config deployed to the server, with the deployment's input values.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.db import Database
from pocketstack.common.db.base import utcnow
from pocketstack.common.db.cas import run_in_transaction
from pocketstack.orchestration import errors
from pocketstack.orchestration import models as m


def _iso(value: Any) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def config_view(row: m.SoftwareConfig, full: bool = True) -> dict[str, Any]:
    shown: dict[str, Any] = {"id": row.id, "name": row.name, "group": row.group,
                             "creation_time": _iso(row.created_at), "project": row.project_id}
    if full:
        body = row.config or {}
        shown.update(config=body.get("config", ""), inputs=body.get("inputs") or [],
                     outputs=body.get("outputs") or [], options=body.get("options") or {})
    return shown


def deployment_view(row: m.SoftwareDeployment) -> dict[str, Any]:
    return {"id": row.id, "config_id": row.config_id, "server_id": row.server_id, "action": row.action,
            "status": row.status, "status_reason": row.status_reason, "input_values": row.input_values or {},
            "output_values": row.output_values or {}, "creation_time": _iso(row.created_at),
            "updated_time": _iso(row.updated_at)}


class Software:
    def __init__(self, db: Database):
        self.db = db

    # -- configs --------------------------------------------------------------------------
    def create_config(self, project_id: str, body: dict[str, Any]) -> dict[str, Any]:
        row = m.SoftwareConfig(id=str(uuid.uuid4()), project_id=project_id, name=body.get("name"),
                               group=body.get("group") or "Heat::Ungrouped", created_at=utcnow(),
                               config={k: body.get(k) for k in ("config", "inputs", "outputs", "options")})

        def work(s: Session) -> dict[str, Any]:
            s.add(row)
            s.flush()
            return config_view(row)
        return run_in_transaction(self.db, work)

    def _config(self, s: Session, project_id: str, config_id: str) -> m.SoftwareConfig:
        row = s.get(m.SoftwareConfig, config_id)
        if row is None or row.project_id != project_id:
            raise errors.EntityNotFound(entity="Software Config", name=config_id)
        return row

    def config(self, project_id: str, config_id: str) -> dict[str, Any]:
        with self.db.session(readonly=True) as s:
            return config_view(self._config(s, project_id, config_id))

    def configs(self, project_id: str) -> list[dict[str, Any]]:
        with self.db.session(readonly=True) as s:
            rows = s.scalars(sa.select(m.SoftwareConfig).where(m.SoftwareConfig.project_id == project_id)
                             .order_by(m.SoftwareConfig.created_at, m.SoftwareConfig.id))
            return [config_view(row, full=False) for row in rows]

    def delete_config(self, project_id: str, config_id: str) -> None:
        def work(s: Session) -> None:
            row = self._config(s, project_id, config_id)
            if s.scalar(sa.select(m.SoftwareDeployment.id).where(m.SoftwareDeployment.config_id == row.id)):
                raise errors.InvalidRestrictedAction(action="Deleting a software config in use by a deployment")
            s.delete(row)
        run_in_transaction(self.db, work)

    # -- deployments ----------------------------------------------------------------------
    def create_deployment(self, project_id: str, body: dict[str, Any]) -> dict[str, Any]:
        def work(s: Session) -> dict[str, Any]:
            self._config(s, project_id, body["config_id"])
            row = m.SoftwareDeployment(
                id=body.get("id") or str(uuid.uuid4()), project_id=project_id, config_id=body["config_id"],
                server_id=body["server_id"], action=body.get("action") or "INIT",
                status=body.get("status") or "COMPLETE", status_reason=body.get("status_reason") or "",
                input_values=body.get("input_values") or {}, output_values={}, created_at=utcnow())
            s.add(row)
            s.flush()
            return deployment_view(row)
        return run_in_transaction(self.db, work)

    def _deployment(self, s: Session, project_id: str, deployment_id: str) -> m.SoftwareDeployment:
        row = s.get(m.SoftwareDeployment, deployment_id)
        if row is None or row.project_id != project_id:
            raise errors.EntityNotFound(entity="Software Deployment", name=deployment_id)
        return row

    def deployment(self, project_id: str, deployment_id: str) -> dict[str, Any]:
        with self.db.session(readonly=True) as s:
            return deployment_view(self._deployment(s, project_id, deployment_id))

    def deployments(self, project_id: str, server_id: str | None) -> list[dict[str, Any]]:
        with self.db.session(readonly=True) as s:
            query = sa.select(m.SoftwareDeployment).where(m.SoftwareDeployment.project_id == project_id)
            if server_id:
                query = query.where(m.SoftwareDeployment.server_id == server_id)
            return [deployment_view(row) for row in s.scalars(query.order_by(m.SoftwareDeployment.created_at))]

    def update_deployment(self, project_id: str, deployment_id: str, body: dict[str, Any]) -> dict[str, Any]:
        def work(s: Session) -> dict[str, Any]:
            row = self._deployment(s, project_id, deployment_id)
            if body.get("config_id"):
                self._config(s, project_id, body["config_id"])
            for key in ("config_id", "action", "status", "status_reason", "input_values", "output_values"):
                if body.get(key) is not None:
                    setattr(row, key, body[key])
            row.updated_at = utcnow()
            s.flush()
            return deployment_view(row)
        return run_in_transaction(self.db, work)

    def delete_deployment(self, project_id: str, deployment_id: str) -> None:
        def work(s: Session) -> None:
            s.delete(self._deployment(s, project_id, deployment_id))
        run_in_transaction(self.db, work)

    def metadata(self, project_id: str, server_id: str) -> list[dict[str, Any]]:
        """The configs deployed to ``server_id``, each with its deployment's input values."""
        with self.db.session(readonly=True) as s:
            rows = s.execute(sa.select(m.SoftwareDeployment, m.SoftwareConfig)
                             .join(m.SoftwareConfig, m.SoftwareConfig.id == m.SoftwareDeployment.config_id)
                             .where(m.SoftwareDeployment.project_id == project_id,
                                    m.SoftwareDeployment.server_id == server_id)
                             .order_by(m.SoftwareConfig.name, m.SoftwareDeployment.created_at)).all()
            shown = []
            for deployment, config in rows:
                item = config_view(config)
                values = deployment.input_values or {}
                item["inputs"] = [{**i, "value": values.get(i.get("name"), i.get("default"))}
                                  for i in item["inputs"] if isinstance(i, dict)]
                item["updated_time"] = _iso(deployment.updated_at or deployment.created_at)
                shown.append(item)
            return shown
