"""Identity: tenants, users, API keys, passwords and TOTP (users); customer self-service sign-up (signup); signed single-use links (links)."""
