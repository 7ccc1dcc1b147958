"""Billing platform API, note attachments: JSON (base64) and multipart
uploads, Accept-driven download, and the presigned path for large files."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from chalice import Response
from chalice.app import Request

from chalicelib.api import http
from chalicelib.api.platform import views
from chalicelib.api.platform.dialect import action_name, bp, entity_id, page, see_other, serve
from chalicelib.api.platform.views import writable_fields
from chalicelib.domain.errors import UnknownActionError, ValidationError
from chalicelib.domain.identity import Principal
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.domain.common import files
    from chalicelib.services.customers import attachments
else:
    files = lazy("chalicelib.domain.common.files")
    attachments = lazy("chalicelib.services.customers.attachments")

FILE_FIELDS = ("_fileContent", "_compression", "_fileSize", "_fileHash", "_mimeType")


def _file_parameters(body: Mapping[str, Any]) -> dict[str, Any]:
    size = body.get("_fileSize")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise ValidationError("_fileSize must be a non-negative integer", field="_fileSize")
    mime = body.get("_mimeType")
    if mime is not None and (not isinstance(mime, str) or "/" not in mime or len(mime) > 255):
        raise ValidationError("_mimeType must be a MIME type such as application/pdf", field="_mimeType")
    compression = body.get("_compression")
    if compression is not None and not isinstance(compression, str):
        raise ValidationError("_compression must be a string", field="_compression")
    return {"expected_size": size, "expected_hash": files.check_hash_format(body.get("_fileHash")),
            "mime_type": mime, "compression": compression}


def _split(body: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    fields = writable_fields({k: v for k, v in body.items() if k not in FILE_FIELDS})
    return fields, _file_parameters(body)


def _is_multipart(request: Request) -> bool:
    return http.media_type(request) == http.MULTIPART


def _json_upload(request: Request) -> tuple[dict[str, Any], files.Upload | None]:
    body = http.json_body(request)
    fields, params = _split(body)
    content = body.get("_fileContent")
    if content is None:
        if any(params.values()):
            raise ValidationError("_fileSize, _fileHash, _mimeType and _compression need _fileContent",
                                  field="_fileContent")
        return fields, None
    if not isinstance(content, str):
        raise ValidationError("_fileContent must be a base64 string", field="_fileContent")
    return fields, files.Upload(base64_content=content, **params)


def _multipart_upload(request: Request) -> tuple[dict[str, Any], files.Upload]:
    parts = http.multipart(request)
    if "file" not in parts:
        raise ValidationError("a multipart upload needs a 'file' part", field="file")
    data: dict[str, Any] = {}
    if "data" in parts:
        data = http.json_object(bytes(parts["data"].content), field="data", where="the 'data' part")
    if "_fileContent" in data or "_compression" in data:
        raise ValidationError("multipart uploads send the file in the 'file' part, uncompressed",
                              field="_compression" if "_compression" in data else "_fileContent")
    fields, params = _split(data)
    file = parts["file"]
    if "fileName" not in fields:
        fields["fileName"] = file.filename or None
    # A view into the request body: the file is not copied on its way to S3.
    return fields, files.Upload(raw=file.content, **params)


@bp.route("/notes/{note_id}/noteAttachments", methods=["POST"],
          content_types=["application/json", "multipart/form-data"])
def create_attachment(note_id: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        fields, upload = _multipart_upload(request) if _is_multipart(request) else _json_upload(request)
        if upload is None:
            raise ValidationError("_fileContent (base64) is required", field="_fileContent")
        record = attachments.create(principal=principal, note_id=entity_id(note_id), fields=fields, upload=upload)
        return http.json_response(views.attachment_view(record), 201)
    return serve(handle)


@bp.route("/noteAttachments/{attachment_id}", methods=["PATCH", "PUT"],
          content_types=["application/json", "multipart/form-data"])
def update_attachment(attachment_id: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        if _is_multipart(request):
            raise ValidationError("multipart uploads only create attachments; update with the JSON method",
                                  field="body")
        fields, upload = _json_upload(request)
        record, changed = attachments.update(principal=principal, attachment_id=entity_id(attachment_id),
                                         fields=fields, upload=upload)
        return http.json_response(views.attachment_view(record), headers={} if changed else {"X-API-No-Changes": "1"})
    return serve(handle)


@bp.route("/noteAttachments/{attachment_id}", methods=["GET"])
def get_attachment(attachment_id: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        if not http.wants_file(request):
            record = attachments.get(principal=principal, attachment_id=entity_id(attachment_id))
            expand = http.flag(http.query(request), "expandStoredFiles")
            return http.json_response(views.attachment_view(record, expand_file=expand))
        found = attachments.download(principal=principal, attachment_id=entity_id(attachment_id))
        record = found.record
        if found.url is not None:
            return see_other(found.url)
        return http.BinaryResponse(found.content or b"", headers={
            "Content-Type": record.get("mimeType") or "application/octet-stream",
            "Content-Disposition": files.content_disposition(record.get("fileName")),
            "ETag": f'"{record["fileHash"]}"', "X-File-Hash": record["fileHash"]})
    return serve(handle)


def _listing(note_id: str | None) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        params = http.query(request)
        if "active" in params:
            raise ValidationError("noteAttachments have no status: 'active' does not apply", field="active")
        found = attachments.list_attachments(principal=principal, page=page(params),
                                             note_id=None if note_id is None else entity_id(note_id))
        expand = http.flag(params, "expandStoredFiles")
        return http.json_response([views.attachment_view(r, expand_file=expand) for r in found])
    return serve(handle)


@bp.route("/noteAttachments", methods=["GET"])
def list_attachments() -> Response:
    return _listing(None)


@bp.route("/notes/{note_id}/noteAttachments", methods=["GET"])
def list_note_attachments(note_id: str) -> Response:
    return _listing(note_id)


@bp.route("/notes/{note_id}/noteAttachmentUploads", methods=["POST"])
def start_upload(note_id: str) -> Response:
    """Large files: a presigned S3 POST, then ?action=complete (docs/billing-api.md)."""
    def handle(principal: Principal, request: Request) -> Response:
        body = http.json_body(request)
        fields, params = _split(body)
        if params["expected_size"] is None or params["expected_hash"] is None:
            raise ValidationError("_fileSize and _fileHash are required for a presigned upload",
                                  field="_fileSize" if params["expected_size"] is None else "_fileHash")
        if "_fileContent" in body or params["compression"]:
            raise ValidationError("a presigned upload sends the file to S3, uncompressed", field="_fileContent")
        answer = attachments.start_upload(principal=principal, note_id=entity_id(note_id), fields=fields,
                                      expected_size=params["expected_size"],
                                      expected_hash=params["expected_hash"], mime_type=params["mime_type"])
        return http.json_response(answer, 201, headers={"Cache-Control": "no-store"})
    return serve(handle)


@bp.route("/noteAttachmentUploads/{upload_id}", methods=["POST"])
def finish_upload(upload_id: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        name = action_name(request)
        if name != "complete":
            raise UnknownActionError(f"The action '{name}' is not recognised for this resource "
                                     "(noteAttachmentUploads actions: complete)", field="action")
        record = attachments.finish_upload(principal=principal, upload_id=entity_id(upload_id))
        return http.json_response(views.attachment_view(record), 201)
    return serve(handle)
