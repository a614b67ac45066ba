"""Triage list: the care team's patients with their flags; sort, filter, search, page."""

from __future__ import annotations

from dash import Dash, Input, Output, ctx

from auth.principal import current_principal, repository
from components import ids
from components.triage import PAGE_SIZE, select_rows, triage_table


def register(app: Dash) -> None:
    """Bind the patient-list callback."""

    @app.callback(
        Output(ids.PATIENT_TABLE, "children"),
        Output(ids.TRIAGE_COUNT, "children"),
        Output(ids.TRIAGE_PAGE, "max_value"),
        Output(ids.TRIAGE_PAGE, "active_page"),
        Input(ids.PATIENT_SEARCH, "value"),
        Input(ids.TRIAGE_SORT, "value"),
        Input(ids.TRIAGE_FILTER, "value"),
        Input(ids.TRIAGE_PAGE, "active_page"),
    )
    def table(search: str | None, sort: str | None, filters: list[str] | None,
              page: int | None):
        rows = repository().triage(current_principal())
        shown = select_rows(rows, search, sort or "urgency", filters or [])
        pages = max(1, -(-len(shown) // PAGE_SIZE))
        # a new search, sort or filter starts again at page 1
        page = 1 if ctx.triggered_id != ids.TRIAGE_PAGE else min(max(page or 1, 1), pages)
        part = shown[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        flagged = sum(1 for r in rows if r.severity >= 2)
        count = (f"{len(shown):,} of {len(rows):,} patients shown · {flagged:,} with "
                 f"flags of medium or high severity")
        return triage_table(part, has_filter=bool(search or filters)), count, pages, page
