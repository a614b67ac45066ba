"""Data sources page: follow an import (surviving navigation), cancel it, rank sources."""

from __future__ import annotations

import time

from dash import ALL, Dash, Input, Output, State, ctx, no_update

from auth.principal import current_principal, repository
from components import ids
from components.imports import RANKED_METRICS, job_history, job_progress
from data.access import AccessDenied


def register(app: Dash) -> None:
    """Bind the data-sources callbacks."""

    @app.callback(
        Output(ids.ACTIVE_JOB, "data"),
        Output(ids.JOB_HISTORY, "children"),
        Output({"type": "priority", "metric": ALL}, "options"),
        Output({"type": "priority", "metric": ALL}, "value"),
        Input(ids.SOURCES_PATIENT, "data"),
    )
    def load(patient_id: int):
        """Reattach to an unfinished import, list past ones, show the source ranking."""
        principal = current_principal()
        repo = repository()
        jobs = repo.jobs_for_patient(principal, patient_id)
        # an unfinished import first (reattach after navigating away), else the latest report
        running = next((j.id for j in jobs if not j.finished), jobs[0].id if jobs else None)
        options, values = [], []
        for code, _label in RANKED_METRICS:
            ranked = repo.sources(principal, patient_id, code)
            options.append([{"label": name, "value": str(sid)} for sid, name, _k, _p in ranked])
            values.append(str(ranked[0][0]) if ranked else None)
        return running, job_history([j.public() for j in jobs]), options, values

    @app.callback(
        Output(ids.JOB_POLL, "disabled"),
        Input(ids.ACTIVE_JOB, "data"),
    )
    def start_polling(job_id: str | None):
        return not job_id

    @app.callback(
        Output(ids.JOB_VIEW, "children"),
        Output(ids.JOB_CANCEL_IMPORT, "disabled"),
        Output(ids.JOB_POLL, "disabled", allow_duplicate=True),
        Output(ids.JOB_HISTORY, "children", allow_duplicate=True),
        Input(ids.JOB_POLL, "n_intervals"),
        State(ids.ACTIVE_JOB, "data"),
        State(ids.SOURCES_PATIENT, "data"),
        prevent_initial_call=True,
    )
    def poll(_n, job_id: str | None, patient_id: int):
        if not job_id:
            return no_update, True, True, no_update
        principal = current_principal()
        repo = repository()
        job = _job_or_refuse(lambda: repo.job(principal, job_id))
        view = job_progress(job.public(), int(time.time()))
        if not job.finished:
            return view, job.cancel_requested, False, no_update
        history = job_history([j.public() for j in repo.jobs_for_patient(principal, patient_id)])
        return view, True, True, history

    @app.callback(
        Output(ids.JOB_CANCEL_IMPORT, "disabled", allow_duplicate=True),
        Input(ids.JOB_CANCEL_IMPORT, "n_clicks"),
        State(ids.ACTIVE_JOB, "data"),
        prevent_initial_call=True,
    )
    def cancel(_clicks, job_id: str | None):
        if job_id:
            _job_or_refuse(lambda: repository().request_cancel(current_principal(), job_id))
        return True

    @app.callback(
        Output(ids.PRIORITY_STATUS, "children"),
        Input(ids.PRIORITY_SAVE, "n_clicks"),
        State({"type": "priority", "metric": ALL}, "value"),
        State({"type": "priority", "metric": ALL}, "id"),
        State(ids.SOURCES_PATIENT, "data"),
        prevent_initial_call=True,
    )
    def save_priorities(_clicks, orders, id_list, patient_id: int):
        if ctx.triggered_id != ids.PRIORITY_SAVE:
            return no_update
        principal = current_principal()
        repo = repository()
        changed = []
        for first, comp_id in zip(orders, id_list, strict=True):
            metric = comp_id["metric"]
            current = [sid for sid, *_ in repo.sources(principal, patient_id, metric)]
            if first is None or not current or int(first) == current[0]:
                continue
            order = [int(first)] + [sid for sid in current if sid != int(first)]
            repo.set_metric_priority(principal, patient_id, metric, order)
            changed.append(metric)
        return f"Saved; recomputed {', '.join(changed)}." if changed else "Nothing changed."


def _job_or_refuse(call):
    """A job someone may not see reads as absent in the repository (KeyError); over a
    callback that is a refusal (403), never a server error."""
    try:
        return call()
    except KeyError as exc:
        raise AccessDenied("no such import job for you") from exc
