"""The unit's plugin hears about issued and revoked cards after the commit, never for a rollback."""
from __future__ import annotations

import pytest

from portal.extensions import db
from portal.plugins import hookimpl
from portal.workers.models import Worker


class Recorder:
    def __init__(self):
        self.events = []

    @hookimpl
    def portal_pass_issued(self, unit, pass_):
        self.events.append(("issued", unit.code, pass_.serial, pass_.version))

    @hookimpl
    def portal_pass_revoked(self, unit, pass_, reason):
        self.events.append(("revoked", unit.code, pass_.serial, reason))


@pytest.fixture
def recorder(app):
    pm = app.extensions["portal.plugins"]
    plugin = Recorder()
    pm.register(plugin, name="test-pass-recorder")
    try:
        yield plugin
    finally:
        pm.unregister(plugin)


def test_hook_portal_pass_issued_and_revoked_after_the_commit(app, world, helpers, recorder):
    from portal.messages import literal
    from portal.passes.issuing import issue_pass
    from portal.passes.models import Pass
    from portal.passes.revoking import revoke_pass

    with app.app_context():
        worker = db.session.get(Worker, world.worker_a)
        pass_ = issue_pass(db.session, helpers.registry, worker, None)
        pass_id, serial = pass_.id, pass_.serial
        assert recorder.events == []  # not before the commit
        db.session.commit()
        assert recorder.events == [("issued", "district7", serial, 1)]
        revoke_pass(db.session, helpers.registry, db.session.get(Pass, pass_id), None, "mistake")
        db.session.rollback()
        assert len(recorder.events) == 1  # a rolled-back revocation says nothing
        revoke_pass(db.session, helpers.registry, db.session.get(Pass, pass_id), None, "f0", literal("F0"))
        db.session.commit()
    # The plugin hears the reason as words, in the portal's first language.
    assert recorder.events[1] == ("revoked", "district7", serial,
                                  "Người lao động dương tính với COVID-19 (F0) — F0")


def test_a_failing_plugin_does_not_undo_the_committed_card(app, world, helpers):
    class Broken:
        @hookimpl
        def portal_pass_issued(self, unit, pass_):
            raise RuntimeError("plugin bug")

    pm = app.extensions["portal.plugins"]
    plugin = Broken()
    pm.register(plugin, name="test-broken")
    try:
        helpers.issue(world.worker_a, world.hr_a)
    finally:
        pm.unregister(plugin)
    assert helpers.pass_of(world.worker_a).status == "active"
