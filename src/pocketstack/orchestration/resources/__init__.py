"""Resource types: each maps a HOT resource onto the cloud's public APIs."""
