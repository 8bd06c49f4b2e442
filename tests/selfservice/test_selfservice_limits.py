"""Guessing is limited per address and slowed per citizen ID (never past 15 minutes: tests/security)."""
from __future__ import annotations

import pytest


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SELFSERVICE_RATE_LIMIT": "3 per minute", "SELFSERVICE_ID_RATE_LIMIT": "4 per hour",
            "SELFSERVICE_SLOWDOWN_FREE": 4}


def _try(client, citizen_id="079090001234", address="10.0.0.1"):
    return client.submit("/the-xanh", {"citizen_id": citizen_id, "date_of_birth": "01/01/1990",
                                       "phone_last4": "0000"}, environ_base={"REMOTE_ADDR": address})


def test_one_address_is_limited(client, world):
    for n in range(3):
        assert _try(client, f"07909000{n:04d}").status_code == 200
    response = _try(client, "079090009999")
    assert response.status_code == 429
    assert "Bạn đã thử quá nhiều lần." in response.get_data(as_text=True)
    assert _try(client, "079090009999", address="10.0.0.2").status_code == 200  # another address
    assert client.get("/the-xanh", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 200  # reading the form


def test_one_citizen_id_slows_down_whatever_the_address(client, world):
    for n in range(4):
        assert _try(client, address=f"10.0.1.{n}").status_code == 200
    slowed = _try(client, address="10.0.1.200")
    assert slowed.status_code == 429
    assert "Vui lòng thử lại sau 1 phút." in slowed.get_data(as_text=True)
    assert _try(client, "0790 9000 1234", address="10.0.1.201").status_code == 429  # the same ID, spaced
    assert _try(client, "079090005678", address="10.0.1.202").status_code == 200
