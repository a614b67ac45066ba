"""Patient list: the care team's patients, searchable, one click to open."""

from __future__ import annotations

from dash import Dash, Input, Output, html

from auth.principal import current_principal, repository
from callbacks.common import age
from components import ids


def register(app: Dash) -> None:
    """Bind the patient-list callback."""

    @app.callback(Output(ids.PATIENT_TABLE, "children"), Input(ids.PATIENT_SEARCH, "value"))
    def table(search: str | None):
        patients = repository().list_patients(current_principal())
        if search:
            patients = [p for p in patients if search.strip().lower() in p.name.lower()]
        if not patients:
            return html.P("No patients match." if search else "No patients on your care team.")
        head = html.Thead(html.Tr([html.Th(h, scope="col") for h in
                                   ("Name", "Age", "Sex", "Time zone")]))
        body = html.Tbody([
            html.Tr([
                html.Td(html.A(p.name, href=f"/patients/{p.id}", className="patient-link")),
                html.Td(age(p.birth_date)), html.Td(p.sex or "—"), html.Td(p.timezone),
            ]) for p in patients
        ])
        return html.Table([head, body], className="table patient-table")
