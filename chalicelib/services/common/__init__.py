"""Helpers every capability's use cases share: the audit touch list (audit), optimistic-race retries (retry), Idempotency-Key records (idempotency), the action runner (actions)."""
