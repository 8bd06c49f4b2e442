"""Fixtures shared by the enterprise tests: registration forms, valid tax codes, database helpers."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from stdnum.vn import mst

from portal.eligibility.testing import evaluate_everyone


def tax_code(seed: int) -> str:
    """Return a valid 10-digit tax code (MST) derived from ``seed`` (distinct seeds, distinct codes)."""
    body = 30_000_000 + seed * 10
    while True:
        digits = f"0{body:08d}"
        check = mst.calc_check_digit(digits)
        if len(check) == 1:
            return digits + check
        body += 1


@pytest.fixture
def world(world, app):
    """The shared world, with its workers' eligibility evaluated (they are written without the services)."""
    evaluate_everyone(app)
    return world


@pytest.fixture
def valid_tax_code():
    return tax_code


@pytest.fixture
def registration():
    """Return a function building a complete, valid registration form for District 7 (override any field)."""

    def build(**overrides) -> dict:
        data = {
            "full_name": "Trần Thị Hạnh",
            "account_email": "nhansu@saigonxanh.vn",
            "password": "mat-khau-that-dai",
            "confirm": "mat-khau-that-dai",
            "name": "Công ty TNHH Thực phẩm Sài Gòn Xanh",
            "tax_code": tax_code(1),
            "address": "12 Nguyễn Văn Linh",
            "ward": "Tân Phong",
            "district": "Quận 7",
            "unit": "district7",
            "business_type": "district7:essential_production",
            "sector": "district7:food_processing",
            "location": "",
            "headcount": "120",
            "contact_name": "Lê Thị Hoa",
            "phone": "0909 123 456",
            "email": "lienhe@saigonxanh.vn",
        }
        data.update(overrides)
        return data

    return build


@pytest.fixture
def count(app):
    """Return a function counting the rows of a model (in a fresh app context)."""
    from portal.extensions import db

    def rows(model, *where) -> int:
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(model).where(*where))

    return rows


@pytest.fixture
def registry(app):
    return app.extensions["portal.plugins"].registry



@pytest.fixture
def confirm_email(app, client):
    """Return a function that follows the confirmation link mailed to a newly registered HR user."""
    from portal.extensions import db
    from portal.mail.models import OutboxMail
    from portal.mail.testing import link_in

    def confirm(email: str) -> None:
        with app.app_context():
            body = db.session.scalar(select(OutboxMail.body).where(OutboxMail.to_address == email,
                                                                   OutboxMail.kind == "auth.confirm"))
        client.get(link_in(body, "/email/confirm/"))
        assert client.submit("/email/confirm").status_code == 302

    return confirm
