"""A tiny OpenID Connect provider for the tests, served on localhost in a thread.

It implements just what a relying party uses: discovery, JWKS, /authorize (authorization
code flow; it approves the configured user at once, no login form), /token (client secret
basic or post, one-time codes, PKCE S256 checked) and /userinfo. ID tokens are RS256, signed
with joserfc. Knobs on `Provider` make it misbehave on purpose: another audience, a token
signed by a key it does not publish, a wrong nonce, an expired token.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Flask, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

CLIENT_ID = "healthdash-test"
CLIENT_SECRET = "test-client-secret"


@dataclass
class Provider:
    """The provider's state; tests change `user` and the knobs between sign-ins."""

    url: str = ""
    user: dict[str, Any] = field(default_factory=dict)
    audience: str = CLIENT_ID
    sign_with_unpublished_key: bool = False
    wrong_nonce: bool = False
    expired: bool = False
    codes: dict[str, dict] = field(default_factory=dict)
    tokens: dict[str, dict] = field(default_factory=dict)
    authorize_requests: list[dict] = field(default_factory=list)
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(
        2048, parameters={"kid": "test-key-1", "use": "sig", "alg": "RS256"}))
    rogue_key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(
        2048, parameters={"kid": "test-key-1", "use": "sig", "alg": "RS256"}))

    def id_token(self, nonce: str | None, now: int | None = None) -> str:
        """An ID token for the current user, shaped by the knobs."""
        now = now or int(time.time())
        if self.expired:
            now -= 3600
        claims = {"iss": self.url, "sub": self.user["sub"], "aud": self.audience,
                  "iat": now, "exp": now + 300, "auth_time": now,
                  **{k: v for k, v in self.user.items() if k != "sub"}}
        if nonce is not None:
            claims["nonce"] = "not-the-nonce" if self.wrong_nonce else nonce
        key = self.rogue_key if self.sign_with_unpublished_key else self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def make_app(provider: Provider) -> Flask:
    """The provider's Flask app."""
    app = Flask("oidc-test-provider")

    @app.get("/.well-known/openid-configuration")
    def discovery():
        base = provider.url
        return jsonify(
            issuer=base, authorization_endpoint=f"{base}/authorize",
            token_endpoint=f"{base}/token", jwks_uri=f"{base}/jwks",
            userinfo_endpoint=f"{base}/userinfo", response_types_supported=["code"],
            subject_types_supported=["public"], id_token_signing_alg_values_supported=["RS256"],
            code_challenge_methods_supported=["S256"], scopes_supported=["openid", "email",
                                                                          "profile", "groups"],
            token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
        )

    @app.get("/jwks")
    def jwks():
        return jsonify(keys=[provider.key.as_dict(private=False)])

    @app.get("/authorize")
    def authorize():
        args = request.args
        provider.authorize_requests.append(dict(args))
        if args.get("client_id") != CLIENT_ID or args.get("response_type") != "code":
            return jsonify(error="invalid_request"), 400
        if "openid" not in args.get("scope", "").split() or not args.get("redirect_uri"):
            return jsonify(error="invalid_scope"), 400
        if args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
            return jsonify(error="invalid_request", error_description="PKCE required"), 400
        code = secrets.token_urlsafe(16)
        provider.codes[code] = {"nonce": args.get("nonce"), "redirect_uri": args["redirect_uri"],
                                "challenge": args["code_challenge"]}
        query = urlencode({"code": code, "state": args.get("state", "")})
        return redirect(f"{args['redirect_uri']}?{query}")

    @app.post("/token")
    def token():
        form = request.form
        auth = request.authorization
        client_id, secret = ((auth.username, auth.password) if auth
                             else (form.get("client_id"), form.get("client_secret")))
        if client_id != CLIENT_ID or secret != CLIENT_SECRET:
            return jsonify(error="invalid_client"), 401
        grant = provider.codes.pop(form.get("code", ""), None)  # a code works once
        if form.get("grant_type") != "authorization_code" or grant is None:
            return jsonify(error="invalid_grant"), 400
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return jsonify(error="invalid_grant", error_description="redirect_uri"), 400
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if not verifier or challenge != grant["challenge"]:
            return jsonify(error="invalid_grant", error_description="PKCE"), 400
        access = secrets.token_urlsafe(16)
        provider.tokens[access] = dict(provider.user)
        return jsonify(access_token=access, token_type="Bearer", expires_in=300,
                       id_token=provider.id_token(grant["nonce"]))

    @app.get("/userinfo")
    def userinfo():
        header = request.headers.get("Authorization", "")
        user = provider.tokens.get(header.removeprefix("Bearer ").strip())
        if user is None:
            return jsonify(error="invalid_token"), 401
        return jsonify(user)

    return app


@contextmanager
def running_provider(user: dict[str, Any]) -> Iterator[Provider]:
    """The provider on a free port of 127.0.0.1 for the duration of the block."""
    provider = Provider(user=user)
    server = make_server("127.0.0.1", 0, make_app(provider), threaded=True)
    provider.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        thread.join(5)
