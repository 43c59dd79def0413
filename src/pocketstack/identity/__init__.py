"""Identity (Keystone v3): users, projects, roles, the catalog and Fernet or JWS tokens."""
