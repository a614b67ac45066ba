"""Download of a generated PDF report (the signed-in user must see the patient)."""

from __future__ import annotations

from flask import Blueprint, Response, abort

from auth.principal import current_principal, repository
from data import audit_context

blueprint = Blueprint("reports", __name__)


@blueprint.get("/reports/<report_id>.pdf")
def download(report_id: str):
    """The PDF as an attachment; 404 for an unknown id, 403 for someone else's patient."""
    if not report_id.isalnum() or len(report_id) > 32:
        abort(404)
    audit_context.annotate("report", report_id=report_id)
    try:
        report = repository().report(current_principal(), report_id)
    except KeyError:
        abort(404)
    return Response(report.pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="healthdash-report-{report_id[:8]}.pdf"',
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    })
