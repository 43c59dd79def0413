"""Default rules of object storage, documented.

Swift has no policy file: its keystoneauth middleware decides by ownership -- a token
scoped to the account's project, with an operator role to write -- and, failing that,
by the container's ACLs (``X-Container-Read``/``-Write``) or a TempURL signature.  The
ownership half is a rule here (an operator may override it as any other rule); the ACLs
and signatures are data the API evaluates (``api/access.py``), so routes declare no
rule: a request refused by both answers Swift's 401 or 403, not a policy error.
"""

from pocketstack.common.policy import Rule

RULES = (
    Rule("object:account_reader", "rule:admin_api or project_id:%(project_id)s",
         "Read an account (AUTH_<project_id>), its containers and objects without an ACL: any token scoped to "
         "the account's project, and the cloud administrator."),
    Rule("object:account_owner", "rule:admin_api or (project_id:%(project_id)s and (role:member or "
                                 "role:swiftoperator))",
         "Own an account (Swift's swift_owner): write it, its containers and objects, and see its secrets "
         "(TempURL keys, ACLs); the project's members and swiftoperators, and the cloud administrator."),
    Rule("object:reseller_admin", "rule:admin_api",
         "Swift keystoneauth's reseller admin: sets and removes account quotas (X-Account-Quota-Bytes, "
         "X-Account-Quota-Count) and is not held to them; the cloud administrator."),
    Rule("object:ring", "rule:admin_api",
         "Read a ring's layout (GET /ring/<kind>): devices, zones, weights, partitions, balance; what "
         "swift-ring-builder shows the operator."),
    Rule("object:dispersion", "rule:admin_api",
         "Run a dispersion report (GET /dispersion): how many copies of a sample of containers and objects "
         "are where the rings say; what swift-dispersion-report shows the operator."),
)
