"""What follows a committed change to a pass: its cached PDFs are dropped and its unit's plugin hears of it."""
from __future__ import annotations

from flask import current_app

from portal.db import after_commit
from portal.passes.models import Pass
from portal.passes.pdf import invalidate_cached_pdfs
from portal.printing.card import pass_facts
from portal.units.services import is_active


def when_committed(session, registry, pass_: Pass, event: str, **kwargs) -> None:
    """Once committed: drop the pass's cached PDFs (a first version has none) and tell the unit's plugin.

    A unit whose plugin is not active hears nothing (there is no one to tell).
    """
    facts = pass_facts(pass_)
    unit_code, serial = pass_.unit.code, pass_.serial
    app = current_app._get_current_object() if pass_.version > 1 or pass_.is_revoked else None
    tell = is_active(registry, unit_code)

    def follow_up() -> None:
        if app is not None:
            invalidate_cached_pdfs(app, serial)
        if tell:
            registry.notify(unit_code, event, pass_=facts, **kwargs)

    after_commit(session, follow_up)
