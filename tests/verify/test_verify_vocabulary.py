"""One definition of scan outcomes: the screens, the JSON and the dashboard's scan figures read it."""
from __future__ import annotations

from datetime import timedelta

from portal.clock import local_today
from portal.extensions import db
from portal.tokens.codec import sign_pass_token
from portal.verify.outcomes import OUTCOME_CODES, OUTCOMES, Outcome, Signal
from portal.verify.testing import ALL_DAY, make_pass
from portal.workers.models import Worker


def test_each_outcome_is_defined_once_with_a_signal_that_is_not_only_a_colour(app):
    assert {item.outcome for item in OUTCOMES} == set(Outcome)
    assert len(OUTCOME_CODES) == len(set(OUTCOME_CODES))
    with app.test_request_context():
        for item in OUTCOMES:
            assert item.icon and str(item.word) and str(item.instruction) and str(item.label)
            assert str(item.word) == str(item.word).upper()
    assert [item.code for item in OUTCOMES if item.signal is not Signal.STOP] == ["valid", "outside_window"]
    assert len({item.icon for item in OUTCOMES}) == len(Signal)  # one icon shape per signal


def test_the_dashboards_scan_figures_list_every_outcome_of_the_definition(app, client, auth, world):
    from portal.dashboard import report

    assert tuple(report.OUTCOMES) == OUTCOME_CODES
    assert set(report.OUTCOME_COLOURS) == set(OUTCOME_CODES)
    with app.app_context():
        pass_ = make_pass(db.session, db.session.get(Worker, world.worker_a), windows=ALL_DAY,
                          first_day=local_today() + timedelta(days=3))
        db.session.commit()
        token = sign_pass_token(pass_)
    assert client.get(f"/api/v1/verify/{token}").get_json()["outcome"] == "not_yet_valid"
    assert auth.login(world.admin).status_code == 302
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Chưa có hiệu lực" in page  # the new outcome is a column of the scan figures
