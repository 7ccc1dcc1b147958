"""settle_pending_files: files whose record is committed but that a crashed
request left unsettled (in place with the pending tag, or a presigned
upload under pending/) are marked recorded or promoted to their place (and
the files the record replaced deleted), for every tenant. It runs every 10
minutes, well inside the day after which the bucket's lifecycle rules expire
such objects (store/pending_files.py; docs/architecture.md, "Files: nothing
orphaned, nothing lost"). Running twice, or beside the request, is harmless: every step
repeats cleanly."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.store import pending_files
    from chalicelib.store.identity import users as identity
else:
    pending_files = lazy("chalicelib.store.pending_files")
    identity = lazy("chalicelib.store.identity.users")


def sweep() -> dict[str, Any]:
    settled = {}
    for tenant in (t["id"] for t in identity.list_tenants()):
        count = pending_files.settle_all(tenant)
        if count:
            settled[tenant] = count
    return {"settled": settled}
