"""Instance HA's named errors, with Masakari's wording, in Nova's fault format (Masakari's
own): ``{"itemNotFound": {"message": ..., "code": 404}}``."""

from __future__ import annotations

from pocketstack.common.errors import BadRequest, Conflict, NotFound


class NotificationNotFound(NotFound):
    msg_fmt = "No notification with id {id}."


class VMoveNotFound(NotFound):
    msg_fmt = "No vm move with id {id}."


class HostNotFoundByName(BadRequest):
    msg_fmt = "Host with name {host_name} could not be found."


class InvalidGeneratedTime(BadRequest):
    msg_fmt = "Invalid generated_time {value!r}: use an ISO 8601 date and time."


class InvalidFilter(BadRequest):
    msg_fmt = "Invalid {name} {value!r}."


class DuplicateNotification(Conflict):
    msg_fmt = ("Notification received from host {host} of type {type} is duplicate: a failure of this host is "
               "open already.")


class SegmentNotFound(NotFound):
    msg_fmt = "No failover segment with id {id}."


class HostNotFound(NotFound):
    msg_fmt = "No host with id {id}."


class ComputeNotFoundByName(BadRequest):
    msg_fmt = "Compute service with name {compute_name} could not be found."


class SegmentExists(Conflict):
    msg_fmt = "Failover segment with name {name} already exists."


class HostExists(Conflict):
    msg_fmt = "Host with name {name} already exists."


class SegmentInUse(Conflict):
    msg_fmt = "Failover segment {uuid} can't be {verb} as it is in-use to process notifications."


class HostInUse(Conflict):
    msg_fmt = "Host {uuid} can't be {verb} as it is in-use to process notifications."


class HostOnMaintenance(Conflict):
    msg_fmt = ("Notification received from host {host} of type '{type}' is ignored as the host is already under "
               "maintenance.")
