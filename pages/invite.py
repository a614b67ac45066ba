"""Accept a caregiver invitation: `/invite/<token>` (signed in with the invited e-mail)."""

import dash

from auth.principal import current_principal, repository
from components.sharing import invitation_page

dash.register_page(__name__, path_template="/invite/<token>", title="Invitation · HealthDash")


def layout(token: str = "", **_query):
    """Who invites whom, and an Accept button; or why the link cannot be used.

    Showing the page changes nothing: accepting is the button's callback.
    """
    try:
        view = repository().invitation_for(current_principal(), token)
    except (ValueError, PermissionError) as exc:
        return invitation_page(token, None, str(exc))
    return invitation_page(token, view)
