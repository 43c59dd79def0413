"""The metadata API guests read (Nova's ``nova-api-metadata``) and the content of the
config drive, from one builder.

- :mod:`.content` builds what a guest reads about its server (through the compute and
  network contracts); :mod:`.openstack` and :mod:`.ec2` are the two trees of it,
  :mod:`.networkinfo` its ``network_data.json``, :mod:`.paths` and :mod:`.tree` how a
  request path finds and renders a value;
- :mod:`.signing` is how the network datapath's metadata proxy vouches for a request
  (``X-Instance-ID`` signed with the shared secret of :mod:`.secret`);
- :mod:`.app` is the HTTP API, :mod:`.server` runs it (``pocketstack up``,
  ``pocketstack metadata``).  docs/guests.md describes it for users.
"""
