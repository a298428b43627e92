"""Signing a person in to the console as a browser does (the form's CSRF token, then the session's)."""

from __future__ import annotations

import re

import httpx


def sign_in(client: httpx.Client, username: str, password: str) -> None:
    """Sign in on `client` (an httpx client or a test client); unsafe calls then carry the CSRF token."""
    client.cookies.clear()
    form = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None, "no sign-in form"
    r = client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": token.group(1), "next": "/console"},
    )
    assert r.status_code == 303, r.text
    page = client.get("/console", follow_redirects=True)  # an annotator lands on the labelling queue
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert csrf is not None, "no CSRF token on the console page"
    client.headers["X-CSRF-Token"] = csrf.group(1)
