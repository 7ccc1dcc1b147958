"""Calls: the CDR pipeline (pipeline, engine, plain), owners and call charges (owners), statistics for the carrier API (stats), presigned CDR uploads (uploads). docs/cdrs.md."""
