"""The authorization-code half of OAuth 2.0 for the fake CRMs: an authorize endpoint that
approves at once (no consent page) and redirects back with a one-time code, and the check of
that code at the token endpoint, as RFC 6749 section 4.1 describes."""

from __future__ import annotations

import secrets
import threading
from urllib.parse import urlencode


class AuthorizationServer:
    def __init__(self, *, client_id: str):
        self.client_id = client_id
        # code -> the redirect_uri it was issued for (a code is good once, for that URI).
        self.codes: dict[str, str] = {}
        self.authorize_requests: list[dict] = []
        self.denied = False
        self._lock = threading.Lock()

    def authorize(self, query: dict) -> tuple[int, dict, dict]:
        self.authorize_requests.append(query)
        redirect_uri, state = query.get("redirect_uri", ""), query.get("state", "")
        if query.get("client_id") != self.client_id or not redirect_uri:
            return 400, {"error": "invalid_client_id"}, {}
        if self.denied:
            outcome = {"error": "access_denied", "state": state}
        else:
            code = secrets.token_urlsafe(16)
            with self._lock:
                self.codes[code] = redirect_uri
            outcome = {"code": code, "state": state}
        return 302, {}, {"Location": f"{redirect_uri}?{urlencode(outcome)}"}

    def redeem(self, form: dict) -> bool:
        """Whether the form's code was issued for its redirect_uri (and not used before)."""
        with self._lock:
            issued_for = self.codes.pop(form.get("code", ""), None)
        return issued_for is not None and issued_for == form.get("redirect_uri")
