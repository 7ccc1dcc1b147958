"""Call-tracking test worlds: inventory numbers for sources, a WAV greeting,
a CDR file of tracked calls, and the greeting objects a tenant has in S3."""
from __future__ import annotations

import struct

from chalicelib import settings
from chalicelib.store.clients import client as aws_client

NUMBERS = ["2065550101", "2065550102", "2065550103", "2065550104", "2065550105"]


def wav(seconds: float = 0.1) -> bytes:
    frames = b"\x00\x00" * int(8000 * seconds)
    return (b"RIFF" + struct.pack("<I", 36 + len(frames)) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)
            + b"data" + struct.pack("<I", len(frames)) + frames)


def objects(tenant: str) -> list[str]:
    listed = aws_client("s3").list_objects_v2(Bucket=settings.blob_bucket(), Prefix=f"tenants/{tenant}/greetings/")
    return [o["Key"] for o in listed.get("Contents", [])]


def cdr_file(path, rows):
    lines = ["call_id,direction,account,trunk_id,from,to,start,answer,end,billsec,disposition"]
    lines += [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return str(path)
