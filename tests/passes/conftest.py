"""Helpers shared by the green-card tests: workers in given states, issuing through the services."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.auth.models import User
from portal.clock import local_today
from portal.eligibility.testing import evaluate_everyone
from portal.extensions import db
from portal.passes.models import Pass
from portal.testing.fixtures import make_worker


def vaccinated(days_ago: int = 30, product: str = "astrazeneca"):
    today = local_today()
    return [(product, today - timedelta(days=days_ago + 30)), (product, today - timedelta(days=days_ago))]


class Helpers:
    def __init__(self, app):
        self.app = app

    @property
    def registry(self):
        return self.app.extensions["portal.plugins"].registry

    def user(self, email: str) -> User:
        return db.session.scalar(select(User).where(User.email == email))

    def add_worker(self, enterprise_id: int, citizen_id: str, name: str = "Trần Thị Mai", *, doses=None,
                   born: date = date(1992, 3, 8), shift: str = "office", recovered_on=None):
        from portal.enterprises.models import Enterprise

        with self.app.app_context():
            enterprise = db.session.get(Enterprise, enterprise_id)
            worker = make_worker(db.session, enterprise, citizen_id=citizen_id, name=name, born=born,
                                 doses=vaccinated() if doses is None else doses, shift=shift,
                                 recovered_on=recovered_on)
            db.session.commit()
            worker_id = worker.id
        evaluate_everyone(self.app)  # written without the services: evaluate as the nightly command would
        return worker_id

    def issue(self, worker_id: int, actor_email: str, *, confirmed: bool = False) -> int:
        from portal.passes.issuing import issue_pass
        from portal.workers.models import Worker

        with self.app.app_context():
            pass_ = issue_pass(db.session, self.registry, db.session.get(Worker, worker_id), self.user(actor_email),
                               confirmed=confirmed)
            db.session.commit()
            return pass_.id

    def pass_of(self, worker_id: int, *, active_only: bool = True) -> Pass | None:
        """Return the worker's (active) pass, detached, as it is in the database now."""
        with self.app.app_context():
            query = select(Pass).where(Pass.worker_id == worker_id).order_by(Pass.id.desc())
            if active_only:
                query = query.where(Pass.status == "active")
            pass_ = db.session.scalar(query)
            if pass_ is not None:
                db.session.expunge(pass_)
            return pass_

    def revocation_of(self, worker_id: int) -> str:
        """Return why the worker's last card was revoked, as a page in Vietnamese shows it."""
        pass_ = self.pass_of(worker_id, active_only=False)
        with self.app.test_request_context():
            return str(pass_.revocation)

    def set_status(self, enterprise_id: int, status: str) -> None:
        from portal.enterprises.models import Enterprise

        with self.app.app_context():
            db.session.get(Enterprise, enterprise_id).status = status
            db.session.commit()


@pytest.fixture
def world(world, app):
    """The shared world, with its workers' eligibility evaluated (they are written without the services)."""
    evaluate_everyone(app)
    return world


@pytest.fixture
def helpers(app):
    return Helpers(app)
