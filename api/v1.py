"""REST API v1: the same series the charts show, as JSON or CSV."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from auth.principal import current_principal, repository
from data import catalog
from data.export import to_csv, to_json
from data.queries import SeriesQuery
from data.timeparse import parse_instant

blueprint = Blueprint("api_v1", __name__, url_prefix="/api/v1")


class BadRequest(ValueError):
    """A parameter a client must fix; answered with 400 and a plain message."""


@blueprint.errorhandler(BadRequest)
def bad_request(exc: BadRequest):
    """400 with the reason."""
    return jsonify(error="bad request", detail=str(exc)), 400


@blueprint.get("/patients/<int:patient_id>/series")
def series(patient_id: int):
    """Points of one metric: ?metric=&start=&end=&resolution=raw|hour|day|auto&format=json|csv."""
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
