"""Where identity is stored: tenants, users and API keys (users), one-time tokens and sessions (tokens), portal sessions and login throttles (portal)."""
