"""Print sheets as a background job: which passes are printed, and the sheet with progress counted in cards.

The layout is :mod:`portal.printing`'s; which passes go on a sheet is this feature's (printing sits
below passes: it lays out any card it is given and knows no table).

:func:`print_sheet_job` prints the enterprise's active, unexpired passes, or only those of
``pass_ids`` (a reprint of the changed or chosen cards reuses it). It reads the passes, ends its
transaction, then builds each card (signing its token) as the sheet sets it, so progress moves
card by card from the first second: its total is the number of cards.
"""
from __future__ import annotations

from collections.abc import Collection
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select, tuple_, update
from sqlalchemy.orm import joinedload

from portal import events
from portal.clock import local_today, start_of_local_day, utcnow
from portal.jobs.services import Outcome
from portal.passes.models import Pass, PassStatus, PassVersion
from portal.plugins import current_registry
from portal.printing.card import build_card
from portal.printing.render import render_print_sheet, sheet_pages
from portal.workers.models import Worker

#: Rows per IN (...) clause when a reprint names many passes.
CHUNK = 1000


def _printable(enterprise_id: int, today: date | None):
    return (Pass.enterprise_id == enterprise_id, Pass.status == PassStatus.ACTIVE.value,
            Pass.valid_until > start_of_local_day(today or local_today()))


def printable_count(session, enterprise_id: int, today: date | None = None) -> int:
    """Count the enterprise's active, unexpired passes."""
    return session.scalar(select(func.count()).select_from(Pass).where(*_printable(enterprise_id, today)))


def printable_passes(session, enterprise_id: int, today: date | None = None, *,
                     pass_ids: Collection[int] | None = None) -> list[Pass]:
    """Return the enterprise's active, unexpired passes in name order, with what the card prints.

    With ``pass_ids``, only those of them (ids of other enterprises' or inactive passes are ignored).
    """
    statement = (select(Pass).join(Pass.worker).where(*_printable(enterprise_id, today))
                 .options(joinedload(Pass.worker), joinedload(Pass.enterprise), joinedload(Pass.unit))
                 .order_by(Worker.name_key, Worker.id))
    if pass_ids is None:
        return session.scalars(statement).unique().all()
    ids = sorted(set(pass_ids))
    found = {}
    for start in range(0, len(ids), CHUNK):
        for pass_ in session.scalars(statement.where(Pass.id.in_(ids[start:start + CHUNK]))).unique():
            found[pass_.id] = pass_
    return sorted(found.values(), key=lambda pass_: (pass_.worker.name_key, pass_.worker.id))


def cards_to_reprint(session, enterprise_id: int, today: date | None = None) -> list[Pass]:
    """Return the enterprise's active cards replaced by a new version that no print sheet has carried since."""
    current = and_(PassVersion.pass_id == Pass.id, PassVersion.version == Pass.version)
    return session.scalars(
        select(Pass).join(Pass.worker).join(PassVersion, current)
        .where(*_printable(enterprise_id, today), Pass.version > 1, PassVersion.printed_at.is_(None))
        .options(joinedload(Pass.worker)).order_by(Worker.name_key, Worker.id)
    ).unique().all()


def reprint_count(session, enterprise_id: int, today: date | None = None) -> int:
    """Count :func:`cards_to_reprint`."""
    current = and_(PassVersion.pass_id == Pass.id, PassVersion.version == Pass.version)
    return session.scalar(select(func.count()).select_from(Pass).join(PassVersion, current).where(
        *_printable(enterprise_id, today), Pass.version > 1, PassVersion.printed_at.is_(None)))


def passes_by_serial(session, enterprise_id: int, serials: Collection[str]) -> list[Pass]:
    """Return the enterprise's printable cards among ``serials`` (typed by HR; others are ignored)."""
    wanted = sorted({serial.strip().upper() for serial in serials if serial.strip()})[:CHUNK]
    if not wanted:
        return []
    return session.scalars(select(Pass).where(*_printable(enterprise_id, None), Pass.serial.in_(wanted))).all()


def mark_printed(session, printed: Collection[tuple[int, int]]) -> None:
    """Record that these (pass id, version) were laid out on a sheet: they no longer wait to be reprinted."""
    now = utcnow()
    wanted = sorted(printed)
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start:start + CHUNK]
        session.execute(update(PassVersion).where(
            tuple_(PassVersion.pass_id, PassVersion.version).in_(chunk)).values(printed_at=now),
            execution_options={"synchronize_session": False})


def print_sheet_job(ctx, *, enterprise_id: int, base_url: str, card_locale: str = "vi",
                    pass_ids: list[int] | None = None):
    """Print the enterprise's active passes (or those of ``pass_ids``): an index, then four cards to an A4 page."""
    session = ctx.session
    passes = printable_passes(session, enterprise_id, pass_ids=pass_ids)
    printed = [(pass_.id, pass_.version) for pass_ in passes]
    tax_code = passes[0].enterprise.tax_code if passes else str(enterprise_id)
    session.expunge_all()  # keep what was loaded, then end the transaction before the long part
    session.rollback()
    total = len(passes)
    if not total:
        ctx.progress(0, 0, _l("There is no active green card to print."))
        return {"count": 0, "pages": 0, "index_pages": 0}
    ctx.progress(0, total, _l("Setting the cards"))
    registry = current_registry()
    cards = (build_card(pass_, registry, base_url=base_url, locale=card_locale) for pass_ in passes)
    data = render_print_sheet(cards, total=total, locale=card_locale,
                              progress=lambda done, _total: ctx.progress(done, total, _l("Setting the cards")))
    ctx.save_output(f"the-xanh-{tax_code}-{local_today():%Y%m%d}.pdf", data, content_type="application/pdf")
    index_pages, card_pages = sheet_pages(total)
    ready = _l(
        "%(count)s green cards on %(pages)s A4 pages, after %(index)s pages of list to sign. Next: download "
        "the sheet, print it, cut along the marks and have each holder sign the list.",
        count=total, pages=card_pages, index=index_pages)
    ctx.progress(total, total, ready)
    # Whoever asked hears that it is ready (a mail, from portal.wiring's receiver).
    events.print_sheet_ready.send(enterprise_id, session=session, job_id=ctx.job_id, user_id=ctx.user_id,
                                  count=total, base_url=base_url)
    mark_printed(session, printed)
    session.commit()
    return Outcome({"count": total, "pages": card_pages + index_pages, "index_pages": index_pages}, summary=ready)
