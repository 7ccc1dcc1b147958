"""Credential schemes, each resolving to one domain Principal."""
