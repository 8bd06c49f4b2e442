"""A card per checkpoint outcome, shared by the screens' tests (tests/verify) and the browser test."""
from __future__ import annotations

from datetime import date, timedelta

from portal.clock import local, local_today, utcnow
from portal.passes.history import close_version, open_version
from portal.passes.models import VersionEnd
from portal.testing.fixtures import make_worker
from portal.tokens.codec import sign_pass_token
from portal.verify.testing import ALL_DAY, make_pass
from portal.workers.identity import make_cccd

#: The superseded card's newer version moved house: this must never show on the old card's screen.
NEWER_ROUTE = "Phường Mới Chuyển Đến, Quận 9"
#: What the superseded card in the officer's hand says: its screen shows this route.
PRINTED_ROUTE = "Phường Cũ Đã Chuyển Đi, Quận 4"


def windows_away_from_now() -> list[dict]:
    """One daily window three to four hours from now (never containing the present minute)."""
    start = local(utcnow()) + timedelta(hours=3)
    end = start + timedelta(hours=1)
    return [{"start": f"{start:%H:%M}", "end": f"{end:%H:%M}", "direction": "to_work"}]


def token_per_outcome(session, enterprise) -> dict[str, str]:
    """Add a worker and a pass of ``enterprise`` for each outcome; return each outcome's token (the caller commits).

    The invalid token is the valid one with the end of its signature changed.
    """
    today = local_today()
    made = {}

    def card(index: int, **options):
        born = date(1985, 3, index + 1)
        worker = make_worker(session, enterprise, name=f"Trần Văn Bảo {index}", born=born,
                             citizen_id=make_cccd(79, born, "M", 500 + index))
        return make_pass(session, worker, **options)

    made["valid"] = card(1, windows=ALL_DAY)
    made["outside_window"] = card(2, windows=windows_away_from_now())
    made["not_yet_valid"] = card(3, first_day=today + timedelta(days=2), windows=ALL_DAY)
    made["expired"] = card(4, first_day=today - timedelta(days=30), last_day=today - timedelta(days=1),
                           windows=ALL_DAY)
    made["superseded"] = card(5, windows=ALL_DAY)
    made["superseded"].route_from = PRINTED_ROUTE
    made["revoked"] = card(6, windows=ALL_DAY, status="revoked")
    session.flush()
    tokens = {outcome: sign_pass_token(pass_) for outcome, pass_ in made.items()}
    # Version 1 as printed, then superseded by version 2 (the worker moved): as the passes feature records it.
    superseded = made["superseded"]
    session.add(open_version(superseded, superseded.worker.full_name))
    session.flush()
    close_version(session, superseded, None, VersionEnd.SUPERSEDED)
    superseded.version = 2
    superseded.route_from = NEWER_ROUTE
    session.add(open_version(superseded, superseded.worker.full_name))
    made["revoked"].revoked_at = utcnow()
    session.flush()
    tokens["invalid"] = tokens["valid"][:-6] + ("AAAAAA" if not tokens["valid"].endswith("AAAAAA") else "BBBBBB")
    return tokens
