"""Single sign-on with OpenID Connect (authlib's Flask client), for any provider with discovery.

On when OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are set. `/login/oidc` sends the
browser to the provider (authorization code flow with state, nonce and PKCE S256; all three
kept in the signed session and used once). `/login/oidc/callback` exchanges the code and
validates the ID token: signature against the provider's JWKS, algorithm among those the
discovery document lists, `iss` equal to OIDC_ISSUER, `aud` containing our client id,
`exp`/`iat`, and the nonce. Then the claims name the account:

1. the account bound to (issuer, `sub`);
2. else the account with the token's e-mail when `email_verified` is true, which is then
   bound to (issuer, `sub`) (an account bound to another identity is refused);
3. else a new account (OIDC_CREATE_USERS, default on; a verified e-mail is required).

The role comes from the groups claim (OIDC_GROUPS_CLAIM, default `groups`; read from the
userinfo endpoint when the ID token lacks it) through OIDC_GROUP_ROLES: the first entry of
the mapping, in the order written, whose group the user is in. No match gives
OIDC_DEFAULT_ROLE, and when that is unset (the default) sign-in is refused with a plain
message. The provider is the source of truth for SSO accounts: the role is set again at
every sign-in (audited as `role_change`). Sign-in itself goes through `login.begin_session`,
like a password sign-in (server-side session, CSRF token, `sign_in` audit event).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    redirect,
    render_template_string,
    request,
    session,
    url_for,
)
from joserfc.errors import JoseError
from markupsafe import Markup

from auth.login import begin_session, safe_next
from auth.principal import repository
from data.access import ROLES
from data.repository import Repository, UserRecord
from settings import Settings

log = logging.getLogger(__name__)
blueprint = Blueprint("oidc", __name__)
EXTENSION = "healthdash.oidc"
NEXT_KEY = "oidc_next"
FAILED = "Single sign-on did not complete. Please try again."
UNAVAILABLE = "Single sign-on is unavailable right now. Please try again later."

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Single sign-on · HealthDash</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/style.css"></head>
<body class="login-body"><main class="login-card">
<h1>HealthDash</h1>
<p class="alert" role="alert">{{ message }}</p>
<p><a href="{{ url_for('auth.login') }}">Back to sign-in</a></p>
</main></body></html>"""


class SsoRefused(Exception):
    """Sign-on proved who someone is, but HealthDash will not let them in; `message` says why."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.message = message
        self.reason = reason


@dataclass(frozen=True)
class SsoConfig:
    """What the callback needs besides the authlib client."""

    issuer: str
    client_id: str
    groups_claim: str
    group_roles: tuple[tuple[str, str], ...]
    default_role: str | None
    create_users: bool


def role_for(groups: Any, group_roles: tuple[tuple[str, str], ...],
             default_role: str | None) -> str | None:
    """The first mapped role whose group the user is in (mapping order), else the default."""
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list | tuple):
        groups = []
    have = {g for g in groups if isinstance(g, str)}
    for group, role in group_roles:
        if group in have:
            return role
    return default_role


def config_from(settings: Settings) -> SsoConfig:
    """Check the OIDC settings once at start-up; ValueError names a wrong one."""
    roles = tuple(settings.oidc_group_roles.items())
    for group, role in roles:
        if role not in ROLES:
            raise ValueError(f"OIDC_GROUP_ROLES maps {group!r} to {role!r}, which is not one of "
                             f"{', '.join(ROLES)}")
    if settings.oidc_default_role is not None and settings.oidc_default_role not in ROLES:
        raise ValueError(f"OIDC_DEFAULT_ROLE must be one of {', '.join(ROLES)}")
    if "openid" not in settings.oidc_scopes.split():
        raise ValueError("OIDC_SCOPES must include openid")
    return SsoConfig(
        issuer=settings.oidc_issuer, client_id=settings.oidc_client_id,
        groups_claim=settings.oidc_groups_claim,
        group_roles=roles, default_role=settings.oidc_default_role,
        create_users=settings.oidc_create_users,
    )


def init_app(server: Flask, settings: Settings) -> None:
    """Register the provider when OIDC is configured; the routes answer 404 otherwise."""
    server.register_blueprint(blueprint)
    if not settings.oidc_enabled:
        return
    config = config_from(settings)
    oauth = OAuth(server)
    client = oauth.register(
        "oidc",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=f"{config.issuer.rstrip('/')}/.well-known/openid-configuration",
        client_kwargs={"scope": settings.oidc_scopes, "code_challenge_method": "S256",
                       "timeout": 10},
    )
    server.extensions[EXTENSION] = (client, config)
    server.extensions["healthdash.sso_link"] = _link
    log.info("single sign-on through %s", config.issuer)


def _link() -> Markup:
    """The sign-in page's link, carrying the page's `next` along."""
    target = url_for("oidc.start", next=safe_next(request.args.get("next")))
    return Markup('<p class="sso-link"><a class="btn btn-secondary" href="{}">'
                  "Sign in with single sign-on</a></p>").format(target)


def _configured():
    """The client and config, or a 404 when single sign-on is off."""
    if EXTENSION not in current_app.extensions:
        abort(404)
    return current_app.extensions[EXTENSION]


def _refuse(message: str, status: int):
    return render_template_string(PAGE, message=message), status


@blueprint.get("/login/oidc")
def start():
    """Send the browser to the provider; state, nonce and the PKCE verifier stay in session."""
    client, _config = _configured()
    next_url = safe_next(request.args.get("next"))
    try:
        response = client.authorize_redirect(url_for("oidc.callback", _external=True))
    except (requests.RequestException, ValueError, KeyError, RuntimeError) as exc:
        log.warning("single sign-on provider unreachable: %s", exc)
        return _refuse(UNAVAILABLE, 503)
    session[NEXT_KEY] = next_url
    return response


@blueprint.get("/login/oidc/callback")
def callback():
    """Validate the provider's answer and the ID token, find or make the account, sign in."""
    client, config = _configured()
    repo = repository()
    next_url = safe_next(session.pop(NEXT_KEY, None))
    try:
        token = client.authorize_access_token(
            claims_options={"iss": {"essential": True, "value": config.issuer},
                            "aud": {"essential": True, "value": config.client_id},
                            "sub": {"essential": True}})
        claims = dict(token.get("userinfo") or {})
        _check_claims(claims, config)
        if config.groups_claim not in claims and client.load_server_metadata().get(
                "userinfo_endpoint"):
            extra = client.userinfo(token=token)
            if extra.get("sub") == claims["sub"] and config.groups_claim in extra:
                claims[config.groups_claim] = extra[config.groups_claim]
    except (AuthlibBaseError, JoseError, requests.RequestException, ValueError, KeyError,
            TypeError) as exc:
        reason = getattr(exc, "error", None) or type(exc).__name__
        log.warning("single sign-on failed: %s (%s)", reason, exc)
        repo.record("sign_in_failed", actor=None, actor_label="(single sign-on)",
                    detail={"method": "oidc", "reason": str(reason)[:100]},
                    ip=request.remote_addr)
        return _refuse(FAILED, 401)
    try:
        record = resolve_user(repo, config, claims, ip=request.remote_addr)
    except SsoRefused as refused:
        log.info("single sign-on refused: %s", refused.reason)
        repo.record("sign_in_failed", actor=None,
                    actor_label=_label(claims.get("email") or claims["sub"]),
                    detail={"method": "oidc", "reason": refused.reason,
                            "issuer": config.issuer, "subject": str(claims["sub"])[:255]},
                    ip=request.remote_addr)
        return _refuse(refused.message, 403)
    begin_session(record, "oidc")
    return redirect(next_url)


def _check_claims(claims: dict, config: SsoConfig) -> None:
    """Our own second look at what authlib validated: an ID token came, for us, from them."""
    if not claims.get("sub"):
        raise ValueError("the provider sent no ID token")
    audience = claims.get("aud")
    audience = [audience] if isinstance(audience, str) else audience or []
    if config.client_id not in audience or claims.get("iss") != config.issuer:
        raise ValueError("the ID token is for another client or from another issuer")


def _label(value: Any) -> str:
    return "".join(c for c in str(value) if c.isprintable())[:100]


def resolve_user(repo: Repository, config: SsoConfig, claims: dict,
                 ip: str | None = None) -> UserRecord:
    """The account these validated claims sign in to (found, bound or created), with the
    role its groups map to; SsoRefused when there is none or it may not sign in."""
    subject = str(claims["sub"])[:255]
    role = role_for(claims.get(config.groups_claim), config.group_roles, config.default_role)
    if role is None:
        raise SsoRefused("Your sign-on account is not in a group that may use HealthDash. "
                         "Ask your administrator for access.", "no mapped group")
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    verified = claims.get("email_verified") in (True, "true")
    user_id = repo.oidc_user_id(config.issuer, subject)
    if user_id is None and email and verified:
        found = repo.user_by_email(email)
        if found is not None:
            if repo.oidc_binding(found.id) is not None:
                raise SsoRefused("The HealthDash account with this e-mail is linked to another "
                                 "sign-on identity.", "e-mail bound to another identity")
            repo.bind_oidc(found.id, config.issuer, subject,
                           actor=repo.principal_for(found), ip=ip)
            user_id = found.id
    if user_id is None:
        if not config.create_users:
            raise SsoRefused("There is no HealthDash account for you yet. Ask your "
                             "administrator to create one.", "no account")
        if not (email and verified):
            raise SsoRefused("Your sign-on provider has not confirmed your e-mail address, "
                             "so no account can be made for you.", "e-mail not verified")
        name = claims.get("name") or claims.get("preferred_username") or email
        user_id = repo.create_oidc_user(email, _label(name) or email, role, config.issuer,
                                        subject, ip=ip)
    repo.update_oidc_role(user_id, role, ip=ip)
    record = repo.user_by_id(user_id)
    if record is None or not record.active:
        raise SsoRefused("This HealthDash account is not active.", "inactive")
    return record

