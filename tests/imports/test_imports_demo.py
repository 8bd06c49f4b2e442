"""The demo's data is data the portal accepts: every demo enterprise's export imports back unchanged (issue 9)."""
from __future__ import annotations

from collections import Counter

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from portal import demo
from portal.auth.models import User
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.imports.checking import start_import
from portal.messages import Message
from portal.workers import export
from portal.workers.models import Worker
from portal.workers.services import worker_conditions

pytestmark = pytest.mark.slow


def test_every_demo_enterprise_exports_and_imports_back_unchanged(app):
    registry = app.extensions["portal.plugins"].registry
    refused, counts, workers = [], Counter(), 0
    with app.test_request_context(), force_locale("en"):
        demo.seed(db.session, registry, password="demo-password-1")
        db.session.commit()
        enterprises = db.session.scalars(select(Enterprise).order_by(Enterprise.id)).all()
        assert len(enterprises) == 25
        for enterprise in enterprises:
            hr = db.session.scalar(select(User).where(User.enterprise_id == enterprise.id))
            rows = export.load_rows(db.session, worker_conditions(enterprise.id), registry)
            workers += len(rows)
            for fmt, data in (("xlsx", export.to_xlsx(rows)), ("csv", export.to_csv(rows))):
                batch = start_import(db.session, enterprise, hr, f"export.{fmt}", data, registry=registry)
                assert batch.total_rows == len(rows), (enterprise.name, fmt)
                for entry in batch.report():
                    counts[entry["action"]] += 1
                    refused += [(enterprise.name, fmt, entry["row"], item["field"],
                                 Message.from_json(item["message"]).render()) for item in entry["problems"]]
                db.session.rollback()  # nothing of the check is kept
        total = db.session.query(Worker).count()
    assert sorted({(field, message) for *_where, field, message in refused}) == [], refused[:3]
    assert workers == total > 500
    assert counts == Counter(unchanged=2 * total)
