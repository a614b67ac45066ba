"""Background job on the patient page: recompute a patient's rollups, with progress and cancel.

The foreground callback checks access in the web request and signs a token; the background
callback (Celery or diskcache worker, no request) only acts on a valid token.
"""

from __future__ import annotations

from dash import Dash, Input, Output, State, no_update

from callbacks.common import open_change_job, sign_change_job
from components import ids
from data import audit_context
from settings import Settings


def register(app: Dash, settings: Settings) -> None:
    """Bind the job callbacks."""

    @app.callback(
        Output(ids.JOB_TOKEN, "data"),
        Input(ids.JOB_START, "n_clicks"),
        State(ids.PATIENT_STORE, "data"),
        prevent_initial_call=True,
    )
    def authorize(_clicks, patient_id: int):
        # rebuilding a patient's summaries is a change: read-only roles may not start it
        return sign_change_job(settings.secret_key, patient_id)

    @app.callback(
        Output(ids.JOB_STATUS, "children"),
        Input(ids.JOB_TOKEN, "data"),
        background=True,
        progress=[Output(ids.JOB_PROGRESS, "value"), Output(ids.JOB_PROGRESS, "max")],
        running=[
            (Output(ids.JOB_START, "disabled"), True, False),
            (Output(ids.JOB_CANCEL, "disabled"), False, True),
        ],
        cancel=[Input(ids.JOB_CANCEL, "n_clicks")],
        prevent_initial_call=True,
    )
    @audit_context.in_scope("job recompute")
    def recompute(set_progress, token: str | None):
        if not token:
            return no_update
        _, patient_id, repo = open_change_job(settings.secret_key,
                                              settings.resolved_database_url, token)
        days = repo.recompute_rollups(
            patient_id, progress=lambda done, total: set_progress((str(done), str(total)))
        )
        return f"Done: {days:,} days of summaries rebuilt."
