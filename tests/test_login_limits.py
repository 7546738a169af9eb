"""Sign-in limits, sign-out and the session cookie, over real HTTP (TestClient on the real app):

1. Attempts are limited per account and per client address (REST and the form share the counts): then 429
   with Retry-After and a message naming the limit; the form shows it on the page, not as JSON.
2. An account locked by another client's failures opens again for its owner within the window; the
   refused attempts do not extend it.
3. The client address is the peer's; X-Forwarded-For counts only from a proxy in FORWARDED_ALLOW_IPS.
4. With Redis the counts are shared by every app (process); an unreachable storage still limits.
5. Signing out is a POST (GET /logout only asks) and ends only that session; the cookie is Secure over
   https, also behind a trusted proxy that says so (X-Forwarded-Proto), and only then.
"""
from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from api import create_api
from services import Services
from tests.support import free_port

PASSWORD = "correct horse battery"
WRONG = "not the password"
LOGIN = "/api/auth/login"


@pytest.fixture
def limits():
    """Overrides of the sign-in settings for one test (the defaults: 10 per account, 30 per address)."""
    return {}


@pytest.fixture
def settings(make_settings, db_url, limits):
    return make_settings(auth="password", database_url=db_url, **limits)


@pytest.fixture
def app(services):
    return create_api(services)


def client_at(app, address: str = "198.51.100.7", **kw) -> TestClient:
    """A client whose requests come from `address` (the TCP peer the server sees)."""
    return TestClient(app, client=(address, 40000), follow_redirects=False, **kw)


def rest_login(client: TestClient, username: str, password: str, **headers):
    return client.post(LOGIN, json={"username": username, "password": password}, headers=headers)


def assert_limited(r, whose: str, amount: int, window: int = 60) -> int:
    """A 429 with a whole-second Retry-After within the window and a message naming the limit."""
    assert r.status_code == 429, (r.status_code, r.text)
    wait = int(r.headers["retry-after"])
    assert 1 <= wait <= window
    body = r.json()
    assert body["kind"] == "too_many_attempts"
    assert body["code"] == {"from your address": "login.too_many_from_address",
                            "for this account": "login.too_many_for_account"}[whose]
    assert body["params"]["most"] == amount and body["params"]["wait"]["params"] == {"n": wait}
    assert f"Too many sign-in attempts {whose} (at most {amount} in {window} seconds)" in body["detail"]
    assert f"Try again in {wait} second" in body["detail"]
    return wait


# --- 1. per account, per address, REST and the form ---------------------------------------------------------

@pytest.mark.parametrize("limits", [dict(login_attempts_per_account=3)])
def test_rest_sign_in_is_limited_per_account(app, make_user):
    make_user("dewi", password=PASSWORD)
    make_user("eka", password=PASSWORD)
    client = client_at(app)
    for _ in range(3):
        assert rest_login(client, "dewi", WRONG).status_code == 401
    # the right password too: the account's window is used up
    assert_limited(rest_login(client, "dewi", PASSWORD), "for this account", 3)
    # another account from the same address is not affected
    assert rest_login(client, "eka", PASSWORD).status_code == 200

    # an unknown name is limited exactly like a real one (the limit does not reveal which names exist)
    for _ in range(3):
        assert rest_login(client, "nobody", WRONG).status_code == 401
    unknown = rest_login(client, "nobody", WRONG)
    assert_limited(unknown, "for this account", 3)


@pytest.mark.parametrize("limits", [dict(login_attempts_per_address=4)])
def test_rest_sign_in_is_limited_per_client_address(app, make_user):
    for name in ("sari", "budi", "wati", "joko", "rina"):
        make_user(name, password=PASSWORD)
    guesser, neighbour = client_at(app, "198.51.100.7"), client_at(app, "198.51.100.8")
    for name in ("sari", "budi", "wati", "joko"):  # one guess at each of four accounts
        assert rest_login(guesser, name, WRONG).status_code == 401
    assert_limited(rest_login(guesser, "rina", PASSWORD), "from your address", 4)
    # the accounts themselves are not locked: another address signs in to them
    assert rest_login(neighbour, "rina", PASSWORD).status_code == 200
    assert rest_login(neighbour, "sari", PASSWORD).status_code == 200


@pytest.mark.parametrize("limits", [dict(login_attempts_per_account=3)])
def test_the_form_shares_the_count_and_shows_the_wait_on_the_page(app, make_user):
    make_user("dewi", password=PASSWORD)
    client = client_at(app)
    assert rest_login(client, "dewi", WRONG).status_code == 401
    assert rest_login(client, "dewi", WRONG).status_code == 401
    wrong = client.post("/login", data={"username": "dewi", "password": WRONG, "next": "/"})
    assert wrong.status_code == 303 and wrong.headers["location"].startswith("/login?error=")

    r = client.post("/login", data={"username": "dewi", "password": PASSWORD, "next": "/avatars"})
    assert r.status_code == 429 and r.headers["content-type"].startswith("text/html")
    wait = int(r.headers["retry-after"])
    assert 1 <= wait <= 60
    assert "role='alert'>Too many sign-in attempts for this account (at most 3 in 60 seconds). " \
           f"Try again in {wait} second" in r.text
    assert 'name="password"' in r.text and 'name="next" value="/avatars"' in r.text  # the form, ready again
    assert "apg_session" not in r.headers.get("set-cookie", "")
    assert_limited(rest_login(client, "dewi", PASSWORD), "for this account", 3)


# --- 2. a lock by someone else's failures lasts one window at most ------------------------------------------

@pytest.mark.parametrize("limits", [dict(login_attempts_per_account=3, login_window_seconds=2)])
def test_owner_signs_in_once_the_window_after_an_attackers_failures_has_passed(app, make_user):
    make_user("dewi", password=PASSWORD)
    attacker, owner = client_at(app, "203.0.113.66"), client_at(app, "198.51.100.20")
    for _ in range(3):
        assert rest_login(attacker, "dewi", WRONG).status_code == 401
    refused = rest_login(owner, "dewi", PASSWORD)
    wait = assert_limited(refused, "for this account", 3, window=2)
    for _ in range(5):  # the attacker keeps trying while refused: those attempts are not counted
        assert rest_login(attacker, "dewi", WRONG).status_code == 429
    time.sleep(wait)  # what the server told the owner to wait (never more than the window)
    assert rest_login(owner, "dewi", PASSWORD).status_code == 200


# --- 3. the client address and proxies -----------------------------------------------------------------------

@pytest.mark.parametrize("limits", [dict(login_attempts_per_address=2, forwarded_allow_ips="127.0.0.1")])
def test_x_forwarded_for_counts_only_from_a_trusted_proxy(app, make_user):
    for name in ("sari", "budi", "wati"):
        make_user(name, password=PASSWORD)
    proxy = client_at(app, "127.0.0.1")
    for name in ("sari", "budi"):
        assert rest_login(proxy, name, WRONG, **{"X-Forwarded-For": "203.0.113.5"}).status_code == 401
    assert_limited(rest_login(proxy, "wati", PASSWORD, **{"X-Forwarded-For": "203.0.113.5"}), "from your address", 2)
    # another client behind the same proxy has its own count
    assert rest_login(proxy, "wati", PASSWORD, **{"X-Forwarded-For": "203.0.113.6"}).status_code == 200

    # a client that is not a trusted proxy cannot pick a fresh address with the header
    direct = client_at(app, "198.51.100.9")
    for i, name in enumerate(("sari", "budi")):
        assert rest_login(direct, name, WRONG, **{"X-Forwarded-For": f"10.0.0.{i}"}).status_code == 401
    assert_limited(rest_login(direct, "wati", PASSWORD, **{"X-Forwarded-For": "10.0.0.99"}), "from your address", 2)


# --- 4. where the counts live -------------------------------------------------------------------------------

@pytest.mark.redis
def test_with_redis_every_app_process_shares_the_counts(make_settings, db_url, redis_url):
    values = dict(auth="password", database_url=db_url, redis_url=redis_url, login_attempts_per_account=4)
    one = Services.build(make_settings(**values), migrate=False)
    two = Services.build(make_settings(**values), migrate=False)  # a second app: its own limiter, same Redis
    try:
        from core.accounts import users

        with one.session() as s:
            users.create_user(s, username="dewi", password=PASSWORD, settings=one.settings)
        a, b = client_at(create_api(one), "198.51.100.1"), client_at(create_api(two), "198.51.100.2")
        for client in (a, b, a, b):
            assert rest_login(client, "dewi", WRONG).status_code == 401
        assert_limited(rest_login(a, "dewi", PASSWORD), "for this account", 4)
        assert_limited(rest_login(b, "dewi", PASSWORD), "for this account", 4)
    finally:
        one.close()
        two.close()


@pytest.mark.parametrize("limits", [dict(login_attempts_per_account=2,
                                         login_limit_storage=f"redis://127.0.0.1:{free_port()}/0")])
def test_an_unreachable_limit_storage_still_limits_in_this_process(app, make_user):
    make_user("dewi", password=PASSWORD)
    client = client_at(app)
    assert rest_login(client, "dewi", WRONG).status_code == 401
    assert rest_login(client, "dewi", PASSWORD).status_code == 200
    assert_limited(rest_login(client, "dewi", PASSWORD), "for this account", 2)


# --- 5. sign-out and the session cookie ----------------------------------------------------------------------

def browser_sign_in(client: TestClient, username: str, **headers) -> str:
    r = client.post("/login", data={"username": username, "password": PASSWORD, "next": "/"}, headers=headers)
    assert r.status_code == 303 and r.headers["location"] == "/", r.text
    return r.headers["set-cookie"]


def test_sign_out_is_a_post_and_ends_only_that_session(app, make_user):
    make_user("dewi", password=PASSWORD)
    make_user("eka", password=PASSWORD)
    dewi, eka = client_at(app, "198.51.100.1"), client_at(app, "198.51.100.2")
    browser_sign_in(dewi, "dewi")
    browser_sign_in(eka, "eka")

    confirm = dewi.get("/logout")  # a link (or a page another site shows) cannot sign anyone out
    assert confirm.status_code == 200 and confirm.headers["content-type"].startswith("text/html")
    assert '<form method="post" action="/logout">' in confirm.text and 'id="logout-submit"' in confirm.text
    assert dewi.get("/api/auth/me").json()["username"] == "dewi"

    r = dewi.post("/logout")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert r.headers["set-cookie"].startswith('apg_session=""') and "max-age=0" in r.headers["set-cookie"].lower()
    kept = dewi.cookies.get("apg_session")
    dewi.cookies.clear()
    if kept:  # a browser that ignored the deletion: its token is revoked all the same
        assert dewi.get("/api/auth/me", cookies={"apg_session": kept}).status_code == 401
    assert dewi.get("/logout").status_code == 303  # signed out already: to the sign-in page
    assert eka.get("/api/auth/me").json()["username"] == "eka"  # the other user's session is untouched


@pytest.mark.parametrize("limits", [dict(forwarded_allow_ips="127.0.0.1")])
def test_session_cookie_is_secure_over_https_and_behind_a_trusted_proxy_only(app, make_user):
    make_user("dewi", password=PASSWORD)

    def secure(cookie: str) -> bool:
        return "secure" in [part.strip().lower() for part in cookie.split(";")]

    assert not secure(browser_sign_in(client_at(app, "198.51.100.1"), "dewi"))  # plain http
    assert secure(browser_sign_in(client_at(app, "198.51.100.1", base_url="https://testserver"), "dewi"))
    proxy = client_at(app, "127.0.0.1")
    assert secure(browser_sign_in(proxy, "dewi", **{"X-Forwarded-Proto": "https"}))
    assert not secure(browser_sign_in(proxy, "dewi", **{"X-Forwarded-Proto": "http"}))
    # a client that is not the proxy cannot claim https (its cookie would then never travel over http)
    assert not secure(browser_sign_in(client_at(app, "198.51.100.1"), "dewi", **{"X-Forwarded-Proto": "https"}))
