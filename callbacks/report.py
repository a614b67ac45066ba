"""The printable PDF report: built in the background (Celery or diskcache), then downloaded.

The foreground callback checks access and signs (principal, patient); the worker builds
the report only for a valid token, from the same `data.panels` the page draws.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from dash import Dash, Input, Output, State, html, no_update

from callbacks.common import open_change_job, sign_change_job
from components import ids
from components.report import build_report_pdf
from components.report_content import build_report_data
from data import audit_context, panels
from data.access import Principal
from data.panels import panel_window, range_label
from data.repository import Repository
from settings import Settings

_PAGE = re.compile(rb"/Type\s*/Page(?![s\w])")


def generate_report(repo: Repository, principal: Principal, window: panels.Window,
                    progress=lambda done, total: None) -> tuple[str, int]:
    """Build, store and return (report id, pages) of one patient's report for a window."""
    pid = window.patient_id
    patient = repo.patient(principal, pid)
    steps_total = len(panels.PANELS) + 2  # the panels, the PDF, storing it
    parts = panels.all_panels(repo, principal, window,
                              progress=lambda done, _total: progress(done, steps_total))
    notes = [(n.t_local, n.author, n.text)
             for n in repo.notes(principal, pid, window.start, window.end)]
    # the triage list's flags use their own windows (7 days; glucose 14), ending at the
    # latest data, not the report's range: say so
    flags = [f"{f['label']} (triage window, to the latest data): {f['detail']}"
             for f in repo.patient_flags(principal, pid)]
    author = repo.user_by_id(principal.user_id) if principal.user_id else None
    zone = ZoneInfo(patient.timezone)
    years = patient.age()
    detail = " · ".join(x for x in (
        f"Born {patient.birth_date:%Y-%m-%d}" if patient.birth_date else "",
        f"{years} y" if years is not None else "", patient.sex or "") if x)
    data = build_report_data(
        patient_name=patient.name, patient_detail=detail, range_label=range_label(window),
        tz=patient.timezone,
        generated=f"{datetime.now(zone):%Y-%m-%d %H:%M} ({patient.timezone})"
                  + (f" by {author.display_name}" if author else ""),
        bp=parts["blood_pressure"], weight=parts["weight"], heart=parts["heart"],
        steps=parts["steps"], sleep=parts["sleep"], spo2=parts["spo2"],
        glucose=parts["glucose"], notes=notes, flags=flags,
    )
    pdf = build_report_pdf(data)
    progress(steps_total - 1, steps_total)
    pages = len(_PAGE.findall(pdf))
    report_id = repo.save_report(principal, pid, window.start, window.end, pages, pdf)
    progress(steps_total, steps_total)
    return report_id, pages


def register(app: Dash, settings: Settings) -> None:
    """Bind the report callbacks."""

    @app.callback(
        Output(ids.REPORT_TOKEN, "data"),
        Input(ids.REPORT_START, "n_clicks"),
        State(ids.PATIENT_STORE, "data"),
        prevent_initial_call=True,
    )
    def authorize(_clicks, patient_id: int):
        # a report is stored for the patient: a change, so read-only roles may not start one
        return sign_change_job(settings.secret_key, patient_id)

    @app.callback(
        Output(ids.REPORT_STATUS, "children"),
        Input(ids.REPORT_TOKEN, "data"),
        State(ids.CLIN_RANGE, "value"), State(ids.CLIN_CUSTOM, "start_date"),
        State(ids.CLIN_CUSTOM, "end_date"),
        background=True,
        progress=[Output(ids.REPORT_PROGRESS, "value"), Output(ids.REPORT_PROGRESS, "max")],
        running=[
            (Output(ids.REPORT_START, "disabled"), True, False),
            (Output(ids.REPORT_CANCEL, "disabled"), False, True),
        ],
        cancel=[Input(ids.REPORT_CANCEL, "n_clicks")],
        prevent_initial_call=True,
    )
    @audit_context.in_scope("job report")
    def build(set_progress, token: str | None, range_key, custom_start, custom_end):
        if not token:
            return no_update
        principal, patient_id, repo = open_change_job(
            settings.secret_key, settings.resolved_database_url, token)
        tz = repo.patient(principal, patient_id).timezone
        window = panel_window(patient_id, tz, range_key, custom_start, custom_end)
        report_id, pages = generate_report(
            repo, principal, window,
            progress=lambda done, total: set_progress((str(done), str(total))))
        return html.A(f"Download report (PDF, {pages} page{'s' if pages != 1 else ''}, "
                      f"{range_label(window)})", href=f"/reports/{report_id}.pdf",
                      id="report-link", download=f"healthdash-report-{report_id[:8]}.pdf")
