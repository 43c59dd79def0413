"""Print the aliases a running cloud's Networking API lists in /v2.0/extensions, comma
separated, for Tempest's ``[network-feature-enabled] api_extensions`` (run.sh --network).

One alias is left out when the cloud has nothing to test it with: ``l3_agent_scheduler``
while ``GET /v2.0/agents`` lists no agent of Neutron's type "L3 agent" (as DevStack leaves
it out without an L3 agent).  Tempest's and neutron-tempest-plugin's L3 scheduler tests
look for such an agent (the plugin fails its class set-up when there is none); a
pocketstack agent registers one only where its datapath serves routers (the ``linux``
datapath; docs/network.md, "Network agents"), so with the noop datapath the L3 scheduler
API is covered by pocketstack's own tests instead.

Runs in Tempest's virtualenv (standard library only); credentials come from the PS_*
environment variables run.sh sets.
"""

import json
import os
import sys
import urllib.request


def _request(url, body=None, token=None):
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["X-Auth-Token"] = token
    data = json.dumps(body).encode() if body is not None else None
    return urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=30)


def main():
    env = os.environ
    auth = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": env["PS_ADMIN_USERNAME"], "password": env["PS_ADMIN_PASSWORD"],
        "domain": {"name": env["PS_ADMIN_DOMAIN"]}}}},
        "scope": {"project": {"name": env["PS_ADMIN_PROJECT"], "domain": {"name": env["PS_ADMIN_DOMAIN"]}}}}}
    with _request(env["PS_IDENTITY_URI_V3"] + "/auth/tokens", auth) as response:
        token = response.headers["X-Subject-Token"]
        catalog = json.load(response)["token"]["catalog"]
    urls = [e["url"] for service in catalog if service["type"] == "network" for e in service["endpoints"]
            if e["interface"] == "public" and e.get("region_id", e.get("region")) == env["PS_REGION"]]
    if not urls:
        sys.exit("network_extensions.py: no public network endpoint in the catalog")
    with _request(urls[0].rstrip("/") + "/v2.0/extensions", token=token) as response:
        aliases = sorted(e["alias"] for e in json.load(response)["extensions"])
    if "l3_agent_scheduler" in aliases and "agent" in aliases:
        with _request(urls[0].rstrip("/") + "/v2.0/agents?agent_type=L3%20agent", token=token) as response:
            if not json.load(response)["agents"]:
                aliases.remove("l3_agent_scheduler")
    print(",".join(aliases))


if __name__ == "__main__":
    main()
