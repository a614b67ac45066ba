"""Shown for unknown paths."""

import dash
from dash import html

dash.register_page(__name__, path="/404", title="Not found · HealthDash")


def layout(**_query):
    """A plain message with a way back."""
    return html.Div([html.H1("Page not found"), html.A("Back to the start", href="/")])
