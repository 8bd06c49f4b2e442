"""For tests that write workers straight into the database (bypassing the services and their events)."""
from __future__ import annotations


def evaluate_everyone(app, *, on_date=None) -> int:
    """Bring the eligibility snapshot up to date for every active worker, as the daily command does; commit."""
    from portal import clock
    from portal.eligibility.upkeep import RefreshScope, refresh_eligibility
    from portal.extensions import db

    with app.app_context():
        now = clock.utcnow()
        done = refresh_eligibility(db.session, app.extensions["portal.plugins"].registry, RefreshScope(),
                                   on_date=on_date or clock.local_today(now), now=now)
        db.session.commit()
        return done
