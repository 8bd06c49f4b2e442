"""Print sheets of green cards (moving to :mod:`portal.printing`).

The rest of the passes feature lives by concern: :mod:`.listing` (what pages show), :mod:`.issuing`,
:mod:`.revoking`, :mod:`.upkeep` (what other features' changes do to cards), :mod:`.pdf` and
:mod:`.follow_up` (what follows a committed change).
"""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal.clock import local_today, start_of_local_day
from portal.passes.models import Pass, PassStatus
from portal.plugins import current_registry
from portal.printing.card import build_card
from portal.printing.render import render_print_sheet
from portal.workers.models import Worker

# ---------------------------------------------------------------------------
# Print sheets and "issue for all" as background jobs
# ---------------------------------------------------------------------------

def _printable(enterprise_id: int, today: date | None):
    return (Pass.enterprise_id == enterprise_id, Pass.status == PassStatus.ACTIVE.value,
            Pass.valid_until > start_of_local_day(today or local_today()))


def printable_count(session, enterprise_id: int, today: date | None = None) -> int:
    """Count the enterprise's active, unexpired passes."""
    return session.scalar(select(func.count()).select_from(Pass).where(*_printable(enterprise_id, today)))


def printable_passes(session, enterprise_id: int, today: date | None = None) -> list[Pass]:
    """Return the enterprise's active, unexpired passes in name order, with what the card prints."""
    return session.scalars(
        select(Pass).join(Pass.worker).where(*_printable(enterprise_id, today))
        .options(joinedload(Pass.worker), joinedload(Pass.enterprise), joinedload(Pass.unit))
        .order_by(Worker.name_key, Worker.id)
    ).unique().all()


def print_sheet_job(ctx, *, enterprise_id: int, base_url: str, card_locale: str = "vi"):
    """Lay out every active pass of the enterprise four to an A4 page, reporting progress."""
    session = ctx.session
    passes = printable_passes(session, enterprise_id)
    tax_code = passes[0].enterprise.tax_code if passes else str(enterprise_id)
    session.expunge_all()  # keep what was loaded, then end the transaction before the long part
    session.rollback()
    total = len(passes)
    if not total:
        ctx.progress(0, 0, _("There is no active green card to print."))
        return {"count": 0}
    registry = current_registry()
    cards = []
    for index, pass_ in enumerate(passes, start=1):
        cards.append(build_card(pass_, registry, base_url=base_url, locale=card_locale))
        ctx.progress(index, 2 * total, _("Preparing the cards"))

    def rendered(done: int, _total: int) -> None:
        ctx.progress(total + done, 2 * total, _("Laying out the pages"))

    data = render_print_sheet(cards, progress=rendered)
    ctx.output_path(f"the-xanh-{tax_code}-{local_today():%Y%m%d}.pdf").write_bytes(data)
    ctx.progress(2 * total, 2 * total, _("%(count)s green cards ready to print.", count=total))
    return {"count": total}
