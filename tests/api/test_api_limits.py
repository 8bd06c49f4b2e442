"""Each token has its own request budget; the 429 answer is the documented JSON error."""
from __future__ import annotations

import re

import pytest
from jsonschema import Draft202012Validator

from portal.api.openapi import document


@pytest.fixture
def app_config(app_config):
    return {**app_config, "API_RATE_LIMIT": "3 per minute"}


def token(client, auth, email: str) -> str:
    auth.login(email)
    page = client.submit("/enterprise/api-tokens", {"name": "ERP"}).get_data(as_text=True)
    auth.logout()
    return re.search(r'value="(gct_[^"]+)"', page).group(1)


def test_rate_limit_per_token(client, auth, world):
    a = {"Authorization": f"Bearer {token(client, auth, world.hr_a)}"}
    b = {"Authorization": f"Bearer {token(client, auth, world.hr_b)}"}
    assert [client.get("/api/v1/workers", headers=a).status_code for _ in range(3)] == [200, 200, 200]
    limited = client.get("/api/v1/workers", headers=a)
    assert limited.status_code == 429
    assert limited.json == {"error": {"code": 429,
                                      "message": "Bạn đã thử quá nhiều lần. Vui lòng thử lại sau 1 phút."}}
    doc = document()
    schema = doc["paths"]["/workers"]["get"]["responses"]["429"]["content"]["application/json"]["schema"]
    Draft202012Validator({**schema, "components": doc["components"]}).validate(limited.json)
    assert client.get("/api/v1/workers", headers=b).status_code == 200  # B's token has its own budget
