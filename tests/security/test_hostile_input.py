"""Nothing a client sends gives a 500: huge ids and pages, control characters in ``next``, LIKE
wildcards, methods an address does not answer, and SQLite reads overlapping a sign-in."""
from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from portal.auth.models import User
from portal.extensions import db
from portal.security import MAX_PAGE, BoundedIntConverter, page_number, safe_next

HUGE = ("2147483648", "9223372036854775807", "9223372036854775808", "18446744073709551616",
        "100000000000000000000000000000", "-1", "-9223372036854775809")


def _int_rules(app):
    rules = [rule for rule in app.url_map.iter_rules() if "<int:" in rule.rule]
    for rule in rules:
        assert all(isinstance(converter, BoundedIntConverter) for converter in rule._converters.values()
                   if isinstance(converter, IntegerConverter)), rule.rule
    return rules


def _fill(rule, number: str) -> str:
    values = {"fmt": "csv", "code": "en", "filename": "x", "token": "x"}
    path = rule.rule
    for name in rule.arguments:
        path = re.sub(rf"<int:{name}>", number, path)
        path = re.sub(rf"<(?:[a-z]+:)?{name}>", values.get(name, "x"), path)
    return path


@pytest.mark.parametrize("role", ["hr_a", "official_x", "admin"])
def test_ids_beyond_the_database_are_404_on_every_route(client, auth, world, role):
    rules = _int_rules(client.application)
    assert len(rules) >= 15, [rule.rule for rule in rules]  # every id route of the portal is bounded
    auth.login(getattr(world, role))
    token = client.csrf_token()
    for rule in rules:
        for number in HUGE:
            url = _fill(rule, number)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.open(url, method=method, data={"csrf_token": token})
                assert response.status_code == 404, (method, url, response.status_code)
                response.close()


def test_the_largest_id_the_database_holds_is_an_ordinary_404(client, auth, world):
    auth.login(world.hr_a)
    assert client.get("/workers/2147483647/edit").status_code == 404
    assert client.get("/workers/0002147483647/edit").status_code == 404
    assert client.get(f"/workers/{world.worker_a}/edit").status_code == 200


def test_ids_in_query_strings_and_forms_are_bounded(client, auth, world):
    auth.login(world.official_x)
    for number in HUGE:
        assert client.get(f"/dashboard/data-quality?enterprise={number}").status_code == 404
        assert client.submit("/eligibility/refresh", {"enterprise": number}).status_code == 404


def test_non_ascii_digits_are_not_numbers(client, world):
    from portal.security import id_arg

    assert id_arg({"enterprise": "²"}, "enterprise") is None
    page = client.get("/enterprises/register").get_data(as_text=True)
    assert "headcount" in page
    answer = client.submit("/enterprises/register", {"headcount": "²³", "name": "X"})
    assert answer.status_code == 200  # the form says what to fix


def test_page_numbers_are_bounded():
    assert page_number({"page": "9223372036854775808"}) == MAX_PAGE
    assert page_number({"page": "-3"}) == 1
    assert page_number({"page": "x"}) == 1
    assert page_number({}) == 1
    assert page_number({"page": " 7 "}) == 7
    assert page_number({"page": "²"}) == 1  # a digit to str.isdigit, not to int()


LISTS = {
    "hr_a": ["/workers", "/workers?status=left", "/passes", "/passes?show=eligible"],
    "official_x": ["/officials/enterprises", "/dashboard/data-quality", "/enterprises/{enterprise_a}"],
    "admin": ["/officials/enterprises", "/admin/mail", "/dashboard/data-quality"],
}


@pytest.mark.parametrize("role", sorted(LISTS))
def test_huge_or_negative_page_numbers_show_a_page(client, auth, world, role):
    auth.login(getattr(world, role))
    for url in LISTS[role]:
        url = url.format(enterprise_a=world.enterprise_a)
        for number in (*HUGE, "1e99", "%00", "%C2%B2", "%D9%A3"):
            joiner = "&" if "?" in url else "?"
            response = client.get(f"{url}{joiner}page={number}&card=x")
            assert response.status_code == 200, (url, number, response.status_code)


@pytest.mark.parametrize("target", [
    "/%0d%0aSet-Cookie:x=1", "/\r\nSet-Cookie: x=1", "/\nx", "/\tx", "\t//evil.example", "//evil.example",
    "https://evil.example/", "/\\evil.example", "\\\\evil.example", "javascript:alert(1)", " /x", "/x\x00",
    "/x\x7f", "/" + "a" * 3000,
])
def test_safe_next_refuses_other_hosts_and_control_characters(target):
    assert safe_next(target.replace("%0d%0a", "\r\n"), "/fallback") == "/fallback"


def test_safe_next_keeps_paths_of_this_site():
    assert safe_next("/workers?q=an&page=2", "/") == "/workers?q=an&page=2"
    assert safe_next("/enterprises/5#cards", "/") == "/enterprises/5#cards"


@pytest.mark.parametrize("raw", ["%0d%0aSet-Cookie:%20x=1", "%0aLocation:%20https://evil.example", "%09//evil.example",
                                 "//evil.example", "https://evil.example"])
def test_language_switch_never_redirects_elsewhere_or_fails(client, raw):
    response = client.get(f"/lang/en?next={raw}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "x=1" not in response.headers.get("Set-Cookie", "").split(";")[0].replace("lang=en", "")


@pytest.mark.parametrize("raw", ["%0d%0aSet-Cookie:%20x=1", "%09//evil.example", "https://evil.example"])
def test_login_next_is_stripped(client, world, raw):
    token = client.csrf_token()
    response = client.post(f"/login?next={raw}", data={"email": world.hr_a, "password": "correct-horse-battery",
                                                        "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/home"


def test_login_next_to_this_site_is_kept(client, world):
    token = client.csrf_token()
    response = client.post("/login?next=/passes", data={"email": world.hr_a, "password": "correct-horse-battery",
                                                          "csrf_token": token})
    assert response.headers["Location"] == "/passes"


@pytest.mark.parametrize("wildcard", ["%", "_", "\\", "%%", "_%_"])
def test_like_wildcards_match_themselves(client, auth, world, app, wildcard):
    from portal.passes.issuing import issue_pass
    from portal.workers.models import Worker

    with app.test_request_context():
        registry = app.extensions["portal.plugins"].registry
        hr = db.session.scalar(select(User).where(User.email == world.hr_a))
        serial = issue_pass(db.session, registry, db.session.get(Worker, world.worker_a), hr).serial
        db.session.commit()
    quoted = wildcard.replace("\\", "%5C").replace("%", "%25").replace("%255C", "%5C")
    auth.login(world.hr_a)
    for url in ("/workers?q=", "/passes?q="):
        assert "Nguyễn Văn An" in client.get(url + "an").get_data(as_text=True), url
        page = client.get(url + quoted)
        assert page.status_code == 200
        assert "Nguyễn Văn An" not in page.get_data(as_text=True), url
    auth.logout()
    auth.login(world.official_x)
    assert serial in client.get(f"/enterprises/{world.enterprise_a}?card=an").get_data(as_text=True)
    cards = client.get(f"/enterprises/{world.enterprise_a}?card={quoted}")
    assert cards.status_code == 200
    assert serial not in cards.get_data(as_text=True)


@pytest.mark.parametrize("method, url, allowed", [
    ("GET", "/logout", {"POST"}),
    ("DELETE", "/login", {"GET", "POST"}),
    ("POST", "/api/v1/openapi.json", {"GET"}),
    ("PATCH", "/api/v1/workers", {"GET", "POST"}),
])
def test_405_names_the_allowed_methods(client, method, url, allowed):
    response = client.open(url, method=method)
    assert response.status_code == 405
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_a_long_read_does_not_lock_a_sign_in_out(app_config, world):
    """A page reading for a long time holds no write lock: a sign-in meanwhile succeeds at once."""
    from portal import create_app
    from portal.testing.fixtures import PortalClient

    app = create_app({**app_config, "SQLITE_BUSY_TIMEOUT_MS": 300})
    reading, release = threading.Event(), threading.Event()

    @app.get("/test/slow-read")
    def slow_read():
        db.session.scalars(select(User)).all()  # the transaction is open and has read
        reading.set()
        release.wait(10)
        db.session.scalars(select(User)).all()
        return "read"

    app.test_client_class = PortalClient
    answers = {}

    def read():
        with app.test_client() as reader:
            answers["read"] = reader.get("/test/slow-read")

    thread = threading.Thread(target=read)
    thread.start()
    try:
        assert reading.wait(10)
        client = app.test_client()
        response = client.submit("/login", {"email": world.hr_a, "password": "correct-horse-battery"})
        assert response.status_code == 302, response.get_data(as_text=True)[:400]
        assert response.headers["Location"] == "/home"
    finally:
        release.set()
        thread.join(15)
    assert answers["read"].status_code == 200
    with app.app_context():
        signed_in = db.session.scalar(select(User).where(User.email == world.hr_a))
        assert signed_in.last_login_at is not None
