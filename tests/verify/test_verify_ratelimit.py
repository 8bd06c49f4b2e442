"""The checkpoint answers are rate limited per IP address (memory or Redis storage, as configured)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.tokens.codec import sign_pass_token
from portal.verify.models import VerificationRecord
from portal.verify.testing import ALL_DAY, make_pass
from portal.workers.models import Worker


@pytest.fixture
def token(app, world):
    with app.app_context():
        pass_ = make_pass(db.session, db.session.get(Worker, world.worker_a), windows=ALL_DAY)
        db.session.commit()
        return sign_pass_token(pass_)


def test_verification_is_rate_limited_per_address_at_120_a_minute(app, client, token):
    for _ in range(120):
        assert client.get(f"/v/{token}").status_code == 200
    limited = client.get(f"/v/{token}")
    assert limited.status_code == 429
    assert "quá nhiều lần" in limited.get_data(as_text=True)  # the core's 429 page, in Vietnamese
    assert client.get(f"/v/{token}", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200
    for _ in range(120):
        client.get(f"/api/v1/verify/{token}", environ_base={"REMOTE_ADDR": "10.0.0.7"})
    answer = client.get(f"/api/v1/verify/{token}", environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert answer.status_code == 429 and answer.get_json()["error"]["code"] == 429
    with app.app_context():
        # Refused requests are not verifications: 120 + 1 + 120 were answered and recorded.
        assert db.session.scalar(select(func.count()).select_from(VerificationRecord)) == 241


def test_the_limit_is_configurable(app, client, token):
    app.config["VERIFY_RATE_LIMIT"] = "3 per minute"  # read on each request
    assert [client.get(f"/v/{token}").status_code for _ in range(4)] == [200, 200, 200, 429]
