"""REST API v1: the same series the charts show, as JSON or CSV."""

from __future__ import annotations

import math
from datetime import date

from flask import Blueprint, Response, abort, jsonify, request

from auth.principal import current_principal, repository
from components.clinical_stats import STATS, Stat
from data import audit_context, catalog, panels
from data.export import to_csv, to_json
from data.panels import panel_window, range_label
from data.queries import SeriesQuery
from data.timeparse import parse_instant

blueprint = Blueprint("api_v1", __name__, url_prefix="/api/v1")


class BadRequest(ValueError):
    """A parameter a client must fix; answered with 400 and a plain message."""


@blueprint.errorhandler(BadRequest)
def bad_request(exc: BadRequest):
    """400 with the reason."""
    return jsonify(error="bad request", detail=str(exc)), 400


MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database


@blueprint.url_value_preprocessor
def _check_ids(_endpoint, values):
    """An id no row can have is a 404 here, not a database error."""
    patient_id = (values or {}).get("patient_id")
    if patient_id is not None and not 1 <= patient_id <= MAX_ID:
        abort(404, description=f"no patient {patient_id}")


@blueprint.get("/patients/<int:patient_id>/series")
def series(patient_id: int):
    """Points of one metric: ?metric=&start=&end=&resolution=raw|hour|day|auto&format=json|csv."""
    audit_context.annotate("export", format=request.args.get("format") or "json",
                           metric=request.args.get("metric", "")[:40])
    principal = current_principal()
    repo = repository()
    patient = repo.patient(principal, patient_id)
    args = request.args
    metric = args.get("metric", "")
    try:
        catalog.get(metric)
        start = parse_instant(args["start"], patient.timezone) if args.get("start") else None
        end = parse_instant(args["end"], patient.timezone) if args.get("end") else None
        query = SeriesQuery(patient_id, metric, start, end, max_points=None,
                            resolution=args.get("resolution", "auto"))
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    result = repo.series(principal, query)
    if args.get("format") == "csv":
        return Response(to_csv(result), mimetype="text/csv")
    return Response(to_json(result), mimetype="application/json")


@blueprint.get("/patients/<int:patient_id>/clinical")
def clinical(patient_id: int):
    """The statistics of every clinical panel for whole local days: ?start=&end= (YYYY-MM-DD,
    both included; default the last 90 days), as the patient page and the report show them."""
    principal = current_principal()
    repo = repository()
    patient = repo.patient(principal, patient_id)
    start, end = request.args.get("start"), request.args.get("end")
    try:
        if bool(start) != bool(end):
            raise ValueError("give both start and end, or neither")
        for value in (start, end):
            if value:
                date.fromisoformat(value)
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    window = panel_window(patient_id, patient.timezone, "custom" if start else "90d", start, end)
    groups = {"activity" if name == "steps" else name: STATS[name](panel)
              for name, panel in panels.all_panels(repo, principal, window).items()}
    return jsonify(
        patient_id=patient_id, timezone=patient.timezone, range=range_label(window),
        start_utc=window.start, end_utc=window.end,
        panels={name: [_stat_json(s) for s in stats] for name, stats in groups.items()},
    )


def _stat_json(stat: Stat) -> dict:
    value = stat.value
    if isinstance(value, list):
        value = [None if v is None or not math.isfinite(v) else v for v in value]
    elif value is not None and not math.isfinite(value):
        value = None
    return {"key": stat.key, "label": stat.label, "text": stat.text, "detail": stat.detail,
            "value": value}
