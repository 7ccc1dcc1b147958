"""HTTP plumbing shared by every surface, one job per module: ``surface``
(authentication, error mapping, the audit record), ``params`` (query
parameters, the caller's address), ``body`` (the one request-body parser) and
``render`` (JSON and byte answers). Surfaces use it as ``http.<name>``."""
from chalicelib.api.http.body import (
    FORM, JSON, LAST, MULTIPART, ONCE, SAME, Part, form, json_body, json_object, json_value, media_type, multipart,
    raw_bytes,
)
from chalicelib.api.http.params import (
    FALSE_FLAGS, TRUE_FLAGS, flag, int_param, iso_param, optional_bool, query, request_id, source_ip,
)
from chalicelib.api.http.render import (
    BinaryResponse, accepts_gzip, dumps, gzip_if_accepted, json_response, wants_file,
)
from chalicelib.api.http.surface import Surface, retry_later, unavailable, unexpected, write_audit

__all__ = [
    "BinaryResponse", "FALSE_FLAGS", "FORM", "JSON", "LAST", "MULTIPART", "ONCE", "Part", "SAME", "Surface", "TRUE_FLAGS",
    "accepts_gzip",
    "dumps", "flag", "form", "gzip_if_accepted", "int_param", "iso_param", "json_body", "json_object", "json_value",
    "json_response", "media_type", "multipart", "optional_bool", "query", "raw_bytes", "request_id", "retry_later",
    "source_ip", "unavailable", "unexpected", "wants_file", "write_audit",
]
