"""The clinical patient page: every panel follows one date range and the notes.

Thin glue: range -> `data.panels` (cached under the patient's data version) ->
`components.clinical` figures and `components.clinical_stats` numbers.
"""

from __future__ import annotations

from datetime import UTC, datetime

from dash import Dash, Input, Output, State, html, no_update

from auth.principal import current_principal, repository
from components import ids
from components.clinical import (
    agp_figure,
    baseline_figure,
    bp_category_figure,
    bp_trend_figure,
    heart_rate_figure,
    heatmap_figure,
    hypnogram_figure,
    spo2_nightly_figure,
    steps_figure,
    tir_figure,
    weight_figure,
)
from components.clinical_stats import (
    Stat,
    bp_stats,
    glucose_stats,
    heart_stats,
    sleep_stats,
    spo2_stats,
    steps_stats,
    weight_stats,
)
from components.sleep import sleep_figure
from data import panels
from data.panels import panel_window, range_label

_RANGE_INPUTS = (Input(ids.CLIN_RANGE, "value"), Input(ids.CLIN_CUSTOM, "start_date"),
                 Input(ids.CLIN_CUSTOM, "end_date"), Input(ids.CLIN_NOTES_VERSION, "data"),
                 State(ids.PATIENT_STORE, "data"))


def night_label(night: int) -> str:
    """"Night to Sat 28 Nov 2026" (nights are filed under the local date they end)."""
    return f"Night to {datetime.fromtimestamp(night, UTC):%a %-d %b %Y}"


def stats_list(stats: list[Stat]) -> list:
    """A definition list: label, value, detail."""
    items = []
    for stat in stats:
        items += [html.Dt(stat.label), html.Dd([
            html.Span(stat.text, className="stat-value", **{"data-stat": stat.key}),
            html.Span(f" · {stat.detail}" if stat.detail else "", className="muted"),
        ])]
    return items


def context(range_key, custom_start, custom_end, patient_id):
    """(principal, repository, window) of a panel callback."""
    principal = current_principal()
    repo = repository()
    patient = repo.patient(principal, patient_id)
    window = panel_window(patient_id, patient.timezone, range_key, custom_start, custom_end)
    return principal, repo, window


def marks(repo, principal, window) -> list[tuple[int, str]]:
    """The window's notes as chart markers: (local time, text)."""
    return [(n.t_local, n.text)
            for n in repo.notes(principal, window.patient_id, window.start, window.end)]


def register(app: Dash) -> None:
    """Bind the panel callbacks."""

    @app.callback(Output(ids.CLIN_RANGE_TEXT, "children"), *_RANGE_INPUTS)
    def range_text(range_key, custom_start, custom_end, _v, patient_id):
        _, _, window = context(range_key, custom_start, custom_end, patient_id)
        return f"{range_label(window)} · times in {window.tz}"

    @app.callback(Output(ids.clin_stats("bp"), "children"), Output(ids.clin_graph("bp"), "figure"),
                  Output(ids.clin_graph("bp-categories"), "figure"), *_RANGE_INPUTS)
    def blood_pressure(range_key, custom_start, custom_end, _v, patient_id):
        who, repo, w = context(range_key, custom_start, custom_end, patient_id)
        notes = marks(repo, who, w)
        panel = panels.blood_pressure(repo, who, w)
        shares = panel.summary.category_share if panel.summary else {}
        return (stats_list(bp_stats(panel)),
                bp_trend_figure(panel.t_local, panel.systolic, panel.diastolic, tz=w.tz,
                                notes=notes),
                bp_category_figure(shares, n=len(panel.t_local)))

    @app.callback(Output(ids.clin_stats("weight"), "children"),
                  Output(ids.clin_graph("weight"), "figure"), *_RANGE_INPUTS)
    def weight(range_key, custom_start, custom_end, _v, patient_id):
        who, repo, w = context(range_key, custom_start, custom_end, patient_id)
        notes = marks(repo, who, w)
        panel = panels.weight(repo, who, w)
        avg7 = panel.trend.avg7 if panel.trend else panel.kg
        return (stats_list(weight_stats(panel)),
                weight_figure(panel.day, panel.kg, avg7, tz=w.tz, notes=notes))

    @app.callback(Output(ids.clin_stats("heart"), "children"),
                  Output(ids.clin_graph("heart-rate"), "figure"),
                  Output(ids.clin_graph("resting"), "figure"),
                  Output(ids.clin_graph("hrv"), "figure"), *_RANGE_INPUTS)
    def heart(range_key, custom_start, custom_end, _v, patient_id):
        who, repo, w = context(range_key, custom_start, custom_end, patient_id)
        notes = marks(repo, who, w)
        panel = panels.heart(repo, who, w)
        hr = panel.heart_rate
        figures = [
            baseline_figure(b.metric, b.day, b.value, b.band.median, b.band.q25, b.band.q75,
                            tz=w.tz, notes=notes)
            for b in (panel.resting, panel.hrv)
        ]
        return (stats_list(heart_stats(panel)),
                heart_rate_figure(hr.day, hr.mean, hr.low, hr.high, tz=w.tz, notes=notes),
                *figures)

    @app.callback(Output(ids.clin_stats("sleep"), "children"),
                  Output(ids.clin_graph("sleep"), "figure"),
                  Output(ids.CLIN_NIGHT, "options"), Output(ids.CLIN_NIGHT, "value"),
                  *_RANGE_INPUTS)
    def sleep(range_key, custom_start, custom_end, _v, patient_id):
        who, repo, w = context(range_key, custom_start, custom_end, patient_id)
        panel = panels.sleep(repo, who, w)
        nights = [int(n) for n in panel.nights]
        options = [{"label": night_label(n), "value": str(n)} for n in reversed(nights)]
        return (stats_list(sleep_stats(panel)), sleep_figure(nights, panel.minutes), options,
                str(nights[-1]) if nights else None)

    @app.callback(Output(ids.clin_graph("hypnogram"), "figure"),
                  Input(ids.CLIN_NIGHT, "value"), State(ids.PATIENT_STORE, "data"))
    def hypnogram(night, patient_id):
        who, repo = current_principal(), repository()
        tz = repo.patient(who, patient_id).timezone
        if night is None:
            return hypnogram_figure([], [], [], night_label="no night in this range", tz=tz)
        found = panels.hypnogram(repo, who, patient_id, int(night))
        return hypnogram_figure(found.start_local, found.end_local, found.stage,
                                night_label=night_label(int(night)), tz=tz)

    @app.callback(Output(ids.clin_stats("steps"), "children"),
                  Output(ids.clin_graph("steps"), "figure"), *_RANGE_INPUTS)
    def steps(range_key, custom_start, custom_end, _v, patient_id):
        who, repo, w = context(range_key, custom_start, custom_end, patient_id)
        notes = marks(repo, who, w)
        panel = panels.steps(repo, who, w)
        return (stats_list(steps_stats(panel)),
                steps_figure(panel.day, panel.steps, panel.source, tz=w.tz, notes=notes))

    @app.callback(Output(ids.clin_stats("spo2"), "children"),
                  Output(ids.clin_graph("spo2"), "figure"), *_RANGE_INPUTS)
    def spo2(range_key, custom_start, custom_end, _v, patient_id):
        who, repo, w = context(range_key, custom_start, custom_end, patient_id)
        notes = marks(repo, who, w)
        panel = panels.spo2(repo, who, w)
        n = panel.nightly
        return (stats_list(spo2_stats(panel)),
                spo2_nightly_figure(n.night, n.min, n.mean, tz=w.tz, notes=notes))

    @app.callback(Output(ids.CLIN_GLUCOSE_SECTION, "hidden"),
                  Output(ids.clin_stats("glucose"), "children"),
                  Output(ids.clin_graph("agp"), "figure"),
                  Output(ids.clin_graph("tir"), "figure"), *_RANGE_INPUTS)
    def glucose(range_key, custom_start, custom_end, _v, patient_id):
        who, repo, w = context(range_key, custom_start, custom_end, patient_id)
        panel = panels.glucose(repo, who, w)
        if panel is None:
            return True, [], no_update, no_update
        a, t = panel.agp, panel.tir
        shares = {k: getattr(t, k) for k in ("very_low", "low", "in_range", "high",
                                             "very_high")}
        return (False, stats_list(glucose_stats(panel)),
                agp_figure(a.minute, a.p5, a.p25, a.p50, a.p75, a.p95,
                           representative=a.representative, message=a.message, tz=w.tz),
                tir_figure(shares, n=t.n))

    @app.callback(Output(ids.clin_graph("heatmap"), "figure"),
                  Input(ids.CLIN_HEATMAP_METRIC, "value"), *_RANGE_INPUTS)
    def heatmap(metric, range_key, custom_start, custom_end, _v, patient_id):
        who, repo, w = context(range_key, custom_start, custom_end, patient_id)
        if metric not in panels.HEATMAP_METRICS:
            metric = "heart_rate"
        matrix, how = panels.heatmap(repo, who, w, metric)
        return heatmap_figure(matrix, metric_code=metric, how=how, tz=w.tz)
