"""The OpenAPI 3 document of /api/v1, written by hand from the routes; served as JSON.

tests/integration/test_api_fuzz.py checks that every /api/v1 route is documented here and
drives its requests from this document.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

blueprint = Blueprint("api_openapi", __name__, url_prefix="/api/v1")

INT32 = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
HEX_ID = {"type": "string", "pattern": "^[0-9a-f]{32}$"}
ERROR = {"type": "object", "required": ["error"], "properties": {
    "error": {"type": "string", "description": "short error name"},
    "detail": {"type": "string", "description": "what to fix, in plain words"},
}}


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _path(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema,
            "description": description}


def _query(name: str, schema: dict, description: str, required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "schema": schema,
            "description": description}


PATIENT = _path("patient_id", INT32, "the patient's id")
JOB = _path("job_id", HEX_ID, "an import job's id")
UPLOAD = _path("upload_id", HEX_ID, "a chunked upload's id")
COMMON = {"400": _error("a parameter or the body is wrong; `detail` says which"),
          "401": _error("no or an invalid API key / session"),
          "403": _error("the key lacks the scope, or the caller may not see this patient"),
          "404": _error("no such patient, job or upload")}
JOB_STATE = {"description": "the job", "content": {"application/json": {"schema": {
    "$ref": "#/components/schemas/Job"}}}}
JOB_QUEUED = {"description": "queued", "content": {"application/json": {"schema": {
    "type": "object", "properties": {"job_id": {"type": "string"}, "url": {"type": "string"},
                                     "state": {"type": "string"}}}}}}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "HealthDash API", "version": "1",
        "description": "The series and statistics the charts show, and Apple Health imports. "
                       "Authenticate with an API key (Settings → API keys, or `healthdash "
                       "api-key create`) as `Authorization: Bearer hd_<prefix>_<secret>`. "
                       "Errors are JSON `{error, detail}` with a 4xx status.",
    },
    "servers": [{"url": "/"}],
    "security": [{"apiKey": []}, {"session": []}],
    "paths": {
        "/api/v1/patients/{patient_id}/series": {"get": {
            "operationId": "series", "summary": "points of one metric",
            "parameters": [
                PATIENT,
                _query("metric", {"type": "string", "maxLength": 64},
                       "metric code from the catalogue, e.g. heart_rate", required=True),
                _query("start", {"type": "string", "maxLength": 40},
                       "ISO date or time; naive values are the patient's local time"),
                _query("end", {"type": "string", "maxLength": 40}, "ISO date or time, exclusive"),
                _query("resolution", {"type": "string",
                                      "enum": ["auto", "raw", "hour", "day"]}, "aggregation"),
                _query("format", {"type": "string", "enum": ["json", "csv"]}, "body format"),
            ],
            "responses": {"200": {"description": "the series", "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}}}}, **COMMON},
        }},
        "/api/v1/patients/{patient_id}/clinical": {"get": {
            "operationId": "clinical", "summary": "statistics of every clinical panel",
            "parameters": [
                PATIENT,
                _query("start", {"type": "string", "format": "date"},
                       "first local day (with end); default the last 90 days"),
                _query("end", {"type": "string", "format": "date"}, "last local day, included"),
            ],
            "responses": {"200": {"description": "panels", "content": {"application/json": {
                "schema": {"type": "object"}}}}, **COMMON},
        }},
        "/api/v1/imports/apple-health": {"post": {
            "operationId": "importAppleHealth",
            "summary": "upload an export.zip or export.xml as the body (scope ingest)",
            "parameters": [
                _query("patient_id", INT32, "whose data it is", required=True),
                _query("filename", {"type": "string", "maxLength": 200}, "original file name"),
                {"name": "X-Filename", "in": "header", "required": False,
                 "schema": {"type": "string", "maxLength": 200},
                 "description": "original file name (instead of the query parameter)"},
            ],
            "requestBody": {"required": True, "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in ("application/zip", "application/xml", "text/xml",
                              "application/octet-stream")}},
            "responses": {"202": JOB_QUEUED, "413": _error("the body is too large"), **COMMON},
        }},
        "/api/v1/jobs/{job_id}": {"get": {
            "operationId": "job", "summary": "state, progress and report of an import",
            "parameters": [JOB], "responses": {"200": JOB_STATE, **COMMON},
        }},
        "/api/v1/jobs/{job_id}/cancel": {"post": {
            "operationId": "cancelJob", "summary": "stop an import after its current batch",
            "parameters": [JOB], "responses": {"202": JOB_STATE, **COMMON},
        }},
        "/api/v1/uploads": {"post": {
            "operationId": "startUpload", "summary": "begin a chunked upload (scope ingest)",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["patient_id", "size"],
                "properties": {"patient_id": INT32,
                               "filename": {"type": "string", "maxLength": 200},
                               "size": {"type": "integer", "minimum": 1}}}}}},
            "responses": {"201": {"description": "the upload", "content": {"application/json": {
                "schema": {"type": "object", "properties": {
                    "id": {"type": "string"}, "chunk_size": {"type": "integer"},
                    "received": {"type": "integer"}}}}}}, **COMMON},
        }},
        "/api/v1/uploads/{upload_id}": {"put": {
            "operationId": "uploadChunk", "summary": "write one chunk at its offset",
            "parameters": [UPLOAD, {
                "name": "Content-Range", "in": "header", "required": True,
                "schema": {"type": "string", "pattern": r"^bytes \d+-\d+/\d+$"},
                "description": "bytes START-END/TOTAL"}],
            "requestBody": {"required": True, "content": {"application/octet-stream": {
                "schema": {"type": "string", "format": "binary"}}}},
            "responses": {"200": {"description": "bytes received so far"},
                          "413": _error("the chunk is too large"), **COMMON},
        }},
        "/api/v1/uploads/{upload_id}/import": {"post": {
            "operationId": "importUpload", "summary": "queue the import of a complete upload",
            "parameters": [UPLOAD], "responses": {"202": JOB_QUEUED, **COMMON},
        }},
        "/api/v1/openapi.json": {"get": {
            "operationId": "openapi", "summary": "this document",
            "responses": {"200": {"description": "OpenAPI 3 document"}},
        }},
    },
    "components": {
        "securitySchemes": {
            "apiKey": {"type": "http", "scheme": "bearer", "bearerFormat": "hd_<prefix>_<secret>",
                       "description": "an API key with the read and/or ingest scope"},
            "session": {"type": "apiKey", "in": "cookie", "name": "session",
                        "description": "a signed-in browser session (state-changing requests "
                                       "also need the X-CSRF-Token header)"},
        },
        "schemas": {
            "Error": ERROR,
            "Job": {"type": "object", "properties": {
                "id": {"type": "string"}, "state": {"type": "string"},
                "bytes_done": {"type": "integer"}, "bytes_total": {"type": "integer"},
                "records_done": {"type": "integer"}, "report": {"type": "object"}}},
        },
    },
}


@blueprint.get("/openapi.json")
def document():
    """The OpenAPI 3 document of this API."""
    return jsonify(DOCUMENT)
