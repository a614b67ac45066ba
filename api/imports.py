"""Imports over HTTP: one-shot upload for scripts, chunked upload for the browser, job state.

Bodies are streamed to disk in 1 MB pieces; no file is ever held in memory.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from flask import Blueprint, abort, current_app, jsonify, request

from auth.principal import current_principal, repository, require_scope
from data.repository import Job

blueprint = Blueprint("api_imports", __name__, url_prefix="/api/v1")
PIECE = 2**20
CHUNK = 8 * 2**20
ACCEPTED_TYPES = ("application/zip", "application/xml", "text/xml", "application/octet-stream",
                  "application/x-zip-compressed")
MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database
HEX_ID = re.compile(r"[0-9a-f]{32}")  # job and upload ids (uuid4 hex)


class ImportRequestError(ValueError):
    """A request a client must fix: 400 with the reason."""


@blueprint.errorhandler(ImportRequestError)
def _bad(exc: ImportRequestError):
    return jsonify(error="bad request", detail=str(exc)), 400


@blueprint.errorhandler(KeyError)
def _missing(exc: KeyError):
    return jsonify(error="not found", detail=str(exc.args[0] if exc.args else exc)), 404


@blueprint.url_value_preprocessor
def _check_ids(_endpoint, values):
    """A job or upload id that cannot exist is a 404 before the database sees it."""
    for name in ("job_id", "upload_id"):
        value = (values or {}).get(name)
        if value is not None and not HEX_ID.fullmatch(value):
            abort(404, description=f"no such {name.removesuffix('_id')}")


def _settings():
    return current_app.extensions["healthdash.settings"]


def _imports_dir() -> Path:
    path = Path(_settings().data_dir) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _submit(job: Job) -> None:
    current_app.extensions["healthdash.dispatcher"].submit(job.id)


def _patient_id() -> int:
    raw = request.args.get("patient_id")
    if raw is None:
        body = request.get_json(silent=True)
        raw = body.get("patient_id") if isinstance(body, dict) else None
    try:
        value = int(raw)
    except (TypeError, ValueError, OverflowError):
        raise ImportRequestError("patient_id is required (an integer)") from None
    if isinstance(raw, bool | float) or not 1 <= value <= MAX_ID:
        raise ImportRequestError("patient_id is required (an integer)")
    return value


def _safe_name(name: object) -> str:
    """The last path component of a client's file name, printable only; never a path."""
    text = name if isinstance(name, str) else ""
    text = "".join(c for c in text if c.isprintable())
    base = os.path.basename(text.replace("\\", "/")).strip()
    return base[:200] if base not in ("", ".", "..") else "export.zip"


@blueprint.post("/imports/apple-health")
def import_apple_health():
    """Upload an export.zip or export.xml as the request body; answers 202 with the job."""
    require_scope("ingest")
    principal = current_principal()
    patient_id = _patient_id()
    # an import changes the patient's data: read-only roles are refused before any byte lands
    repository().authorize_change(principal, patient_id)
    if request.mimetype not in ACCEPTED_TYPES:
        raise ImportRequestError(
            f"send the export as the raw body with Content-Type application/zip or "
            f"application/xml, not {request.mimetype or 'nothing'}")
    request.max_content_length = _settings().max_import_bytes
    target = _imports_dir() / f"{os.urandom(8).hex()}.upload"
    size = 0
    try:
        with target.open("wb") as out:
            while piece := request.stream.read(PIECE):
                out.write(piece)
                size += len(piece)
    except BaseException:
        target.unlink(missing_ok=True)  # too large, or the client went away: keep nothing
        raise
    if size == 0:
        target.unlink()
        raise ImportRequestError("the request body is empty: send the export file")
    filename = _safe_name(request.args.get("filename") or request.headers.get("X-Filename"))
    job = repository().create_job(principal, patient_id, "apple_health", filename,
                                  str(target), size)
    _submit(job)
    return jsonify(job_id=job.id, url=f"/api/v1/jobs/{job.id}", state=job.state), 202


@blueprint.get("/jobs/<job_id>")
def job_state(job_id: str):
    """State, progress and (when finished) the report of an import."""
    require_scope("read")
    return jsonify(repository().job(current_principal(), job_id).public())


@blueprint.post("/jobs/<job_id>/cancel")
def cancel_job(job_id: str):
    """Ask a running import to stop after its current batch."""
    require_scope("ingest")
    repository().request_cancel(current_principal(), job_id)
    return jsonify(repository().job(current_principal(), job_id).public()), 202


@blueprint.post("/uploads")
def start_upload():
    """Begin a chunked upload: {patient_id, filename, size} -> {id, chunk_size}."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ImportRequestError("send JSON: {patient_id, filename, size}")
    try:
        size = int(body.get("size"))
    except (TypeError, ValueError):
        raise ImportRequestError("size must be the file size in bytes") from None
    if not 0 < size <= _settings().max_import_bytes:
        raise ImportRequestError(
            f"the file must be between 1 byte and {_settings().max_import_bytes:,} bytes")
    upload_id_path = _imports_dir() / f"{os.urandom(8).hex()}.part"
    upload = repository().create_upload(current_principal(), _patient_id(),
                                        _safe_name(body.get("filename")), size,
                                        str(upload_id_path))
    upload_id_path.touch()
    return jsonify(id=upload.id, chunk_size=CHUNK, received=0), 201


@blueprint.put("/uploads/<upload_id>")
def upload_chunk(upload_id: str):
    """Append one chunk; `Content-Range: bytes START-END/TOTAL`. Re-sending a chunk is fine."""
    upload = repository().upload(current_principal(), upload_id)
    start, end, total = _content_range(request.headers.get("Content-Range", ""))
    if total != upload.size or start > upload.received:
        raise ImportRequestError(
            f"expected bytes from {upload.received} of {upload.size}, got {start}-{end}/{total}")
    data = request.get_data(cache=False)
    if len(data) != end - start + 1:
        raise ImportRequestError("the chunk's length does not match its Content-Range")
    with open(upload.path, "r+b") as out:
        out.seek(start)
        out.write(data)
    received = max(upload.received, end + 1)
    repository().set_upload_received(upload_id, received)
    return jsonify(id=upload_id, received=received, size=upload.size)


@blueprint.post("/uploads/<upload_id>/import")
def import_upload(upload_id: str):
    """Once every byte has arrived: queue the Apple Health import of the uploaded file."""
    principal = current_principal()
    upload = repository().upload(principal, upload_id)
    if upload.received != upload.size:
        raise ImportRequestError(f"only {upload.received:,} of {upload.size:,} bytes arrived")
    job = repository().create_job(principal, upload.patient_id, "apple_health",
                                  upload.filename, upload.path, upload.size)
    _submit(job)
    return jsonify(job_id=job.id, url=f"/api/v1/jobs/{job.id}", state=job.state), 202


def _content_range(header: str) -> tuple[int, int, int]:
    try:
        unit, _, spec = header.partition(" ")
        span, _, total = spec.partition("/")
        start, _, end = span.partition("-")
        values = int(start), int(end), int(total)
    except ValueError:
        raise ImportRequestError(
            f"Content-Range must look like 'bytes 0-8388607/123456789', not {header!r}"
        ) from None
    if unit != "bytes" or not 0 <= values[0] <= values[1] < values[2]:
        raise ImportRequestError(f"invalid Content-Range {header!r}")
    return values
