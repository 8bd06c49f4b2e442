"""A real PostgreSQL server of the test's own, killed with SIGKILL under a signed-in user, then started again.

The signed-in pages answer the portal's 503 page while it is down, and work again, still signed in,
once it is back: no restart of the portal, no bare 500.
"""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from portal.extensions import db
from portal.testing.fixtures import _test_config

pytestmark = pytest.mark.slow


@pytest.fixture
def app_config(postgres_cluster, tmp_path):
    import portal.models  # noqa: F401  (every table in the metadata)

    engine = create_engine(postgres_cluster.url)
    try:
        db.metadata.create_all(engine)
    finally:
        engine.dispose()
    return _test_config(postgres_cluster.url, tmp_path, PROPAGATE_EXCEPTIONS=False,
                        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "connect_args": {"connect_timeout": 2}})


def test_signed_in_pages_answer_503_while_postgresql_is_killed_and_recover_after(client, auth, world,
                                                                                postgres_cluster):
    auth.login(world.official_x)
    assert client.get("/officials/enterprises").status_code == 200
    postgres_cluster.kill()
    for path in ("/officials/enterprises", "/dashboard", "/"):
        response = client.get(path)
        page = response.get_data(as_text=True)
        assert response.status_code == 503, (path, response.status_code)
        assert "Cổng thông tin chưa kết nối được với cơ sở dữ liệu" in page and 'class="topbar"' in page
    postgres_cluster.start()
    response = client.get("/officials/enterprises")
    assert response.status_code == 200 and "Đăng xuất" in response.get_data(as_text=True)
