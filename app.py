"""Dialtone's Chalice app: one blueprint per surface and the event handlers.
Nothing else lives here; every cold start imports this file."""
from chalice import Chalice

from chalicelib.api.backend import bp as backend_api
from chalicelib.api.carrier import bp as carrier_api
from chalicelib.api.partner import bp as partner_api
from chalicelib.workers.handlers import bp as workers

app = Chalice(app_name="dialtone")
# Port orders upload documents: API Gateway must hand multipart bodies over as bytes.
app.api.binary_types.append("multipart/form-data")
app.register_blueprint(backend_api, url_prefix="/backend/api/v1")
app.register_blueprint(carrier_api, url_prefix="/carrier")
app.register_blueprint(partner_api, url_prefix="/partner/api/v1")
app.register_blueprint(workers)
