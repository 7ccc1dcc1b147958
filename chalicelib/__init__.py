"""Dialtone: the serverless back office of a telecom service provider."""
