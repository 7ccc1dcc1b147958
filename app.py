"""Dialtone's Chalice app: one blueprint per surface and the event handlers.
Nothing else lives here; every cold start imports this file."""
from chalice import Chalice

from chalicelib.auth import redaction
from chalicelib.api.platform import bp as platform_api
from chalicelib.api.carrier import bp as carrier_api
from chalicelib.api.http import guard
from chalicelib.api.partner import bp as partner_api
from chalicelib.api.partner.pages import pages as partner_pages
from chalicelib.api.tracking import bp as tracking_api
from chalicelib.api.voice import bp as voice_api
from chalicelib.api.portal import bp as portal
from chalicelib.observability import invocations, logs
from chalicelib.workers import bp as workers

app = Chalice(app_name="dialtone")
# Lambda's handler and Chalice's: no log line carries a credential in clear.
redaction.install(app.log)
# One JSON object per log line, with the request's correlation id (docs/operations.md).
logs.configure(app.log)
# Multipart uploads must reach the function byte for byte (API Gateway passes
# binary media types base64-encoded; Chalice decodes them into raw_body).
app.api.binary_types.append("multipart/form-data")
# Attachment downloads: on AWS, API Gateway turns a base64 body back into bytes
# only for a request whose Accept names a binary media type.
app.api.binary_types.extend(["application/pdf", "application/zip", "application/gzip", "image/tiff"])
app.register_blueprint(platform_api, url_prefix="/backend/api/v1")
app.register_blueprint(carrier_api, url_prefix="/carrier")
app.register_blueprint(partner_api, url_prefix="/partner/api/v1")
app.register_blueprint(partner_pages, url_prefix="/partner")  # the pages its e-mails link to
app.register_blueprint(tracking_api, url_prefix="/tracking")
app.register_blueprint(voice_api, url_prefix="/api/v1")
app.register_blueprint(portal, url_prefix="/portal")
app.register_blueprint(workers)
# Outermost: the request's correlation id around everything below, echoed as X-Request-Id.
app.register_middleware(invocations.http_middleware, "http")
# Unknown paths, methods a route lacks, Chalice's own refusals and escaped
# errors: answered in the envelope of the surface the path is under.
app.register_middleware(guard.middleware(app.routes), "http")
