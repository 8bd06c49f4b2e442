import pytest

from portal import create_app


def test_security_headers_on_every_page(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_load_nothing_from_other_sites(client):
    html = client.get("/").get_data(as_text=True)
    assert "http://" not in html.replace('http://www.w3.org', '') and "https://" not in html


def test_not_found_is_a_vietnamese_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Trang không tồn tại" in response.get_data(as_text=True)


def test_api_errors_are_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.is_json and response.get_json()["error"]["code"] == 404


@pytest.fixture
def failing_app(app_config):
    app = create_app({**app_config, "TESTING": False, "PROPAGATE_EXCEPTIONS": False})

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internal detail")

    return app


def test_an_unexpected_error_shows_a_calm_page_without_internals(failing_app):
    response = failing_app.test_client().get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Hệ thống gặp sự cố" in html and "secret internal detail" not in html and "Traceback" not in html
