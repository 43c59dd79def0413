"""Images: the Glance v2 API, its state machine and its data stores."""
