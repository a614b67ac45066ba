"""Settings → API keys: a signed-in user's keys for /api/v1 (create, shown once; revoke)."""

import dash
from dash import dcc, html

from auth.principal import current_principal, repository
from components import api_keys as ui
from components.layouts import no_access

dash.register_page(__name__, path="/settings/api-keys", title="API keys · HealthDash")


def layout(**_query):
    """The create form and the user's keys."""
    principal = current_principal()
    if principal.user_id is None:
        return no_access()
    return html.Div([
        dcc.Store(id=ui.VERSION, data=0),
        html.H1("API keys"),
        html.P(["Scripts reach ", html.Code("/api/v1"), " with a key in the ",
                html.Code("Authorization: Bearer"), " header. A key acts as you and sees what "
                "you see, limited to its scopes. Only a hash of each key is kept."],
               className="muted"),
        html.Section([
            html.H2("Create a key"),
            html.Fieldset([
                html.Legend("Scopes"),
                dcc.Checklist(id=ui.SCOPES, options=ui.SCOPE_OPTIONS, value=["read"],
                              labelClassName="form-check", inputClassName="form-check-input"),
            ]),
            html.Button("Create key", id=ui.CREATE, className="btn btn-primary"),
            html.Div(id=ui.NEW_KEY, role="status", **{"aria-live": "polite"}),
        ], className="chart-card"),
        html.Section([
            html.H2("Your keys"),
            html.P(id=ui.STATUS, role="status", **{"aria-live": "polite"}),
            html.Div(id=ui.TABLE,
                     children=ui.keys_table(repository().api_keys_of(principal.user_id))),
        ], className="chart-card mt-4"),
    ])
