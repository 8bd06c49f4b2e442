"""What HR and officials see of green cards: the workers with their eligibility and card, each card's state.

The HR page reads the eligibility snapshot (``portal.eligibility``): filtered, searched, counted and
paged in SQL, however many workers the enterprise has.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from portal.clock import local_today, start_of_local_day
from portal.eligibility.models import EligibilitySnapshot
from portal.messages import Message
from portal.pagination import Page, paginate
from portal.passes.models import Pass, PassStatus
from portal.text import fold
from portal.tokens.pass_data import valid_days
from portal.workers.models import Worker

#: What the HR page may show: everyone, by eligibility, or by whether they hold a card.
FILTERS = ("all", "eligible", "ineligible", "with_pass", "without_pass")


def is_expired(pass_: Pass, today: date | None = None) -> bool:
    """Say whether ``pass_``'s last valid day is before ``today`` (HCMC)."""
    return pass_.valid_until <= start_of_local_day(today or local_today())


def last_valid_day(pass_: Pass) -> date:
    """Return the last local day ``pass_`` is valid (``valid_until`` is the exclusive midnight after it)."""
    return valid_days(pass_)[1]


def display_status(pass_: Pass, today: date | None = None) -> str:
    """Return "active", "expired" or "revoked" as a pass's badge says."""
    if pass_.is_revoked:
        return PassStatus.REVOKED.value
    return "expired" if is_expired(pass_, today) else PassStatus.ACTIVE.value


# ---------------------------------------------------------------------------
# The HR page: workers, their eligibility (from the snapshot) and their card
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class WorkerRow:
    """One active worker, their last evaluated eligibility (None: not evaluated yet) and their active card."""

    worker: Worker
    snapshot: EligibilitySnapshot | None
    pass_: Pass | None
    has_history: bool = False  # the worker held a card once (their card history has something to show)

    @property
    def eligible(self) -> bool:
        return bool(self.snapshot and self.snapshot.eligible)

    @property
    def reason(self) -> Message | None:
        return Message.from_json(self.snapshot.reason) if self.snapshot and self.snapshot.reason else None


def _rows_statement(enterprise_id: int):
    snapshot = EligibilitySnapshot
    return (
        select(Worker, snapshot, Pass)
        .outerjoin(snapshot, snapshot.worker_id == Worker.id)
        .outerjoin(Pass, and_(Pass.worker_id == Worker.id, Pass.status == PassStatus.ACTIVE.value))
        .where(Worker.enterprise_id == enterprise_id, Worker.active.is_(True))
    )


def _filter_clause(which: str):
    eligible = EligibilitySnapshot.eligible.is_(True)
    return {
        "eligible": eligible,
        "ineligible": or_(EligibilitySnapshot.eligible.is_(False), EligibilitySnapshot.worker_id.is_(None)),
        "with_pass": Pass.id.is_not(None),
        "without_pass": Pass.id.is_(None),
    }.get(which)


def _search_clause(text: str):
    """Match a name typed with or without diacritics, or the last digits of the citizen ID."""
    wanted = fold(text or "")
    if not wanted:
        return None
    clauses = [Worker.name_key.contains(wanted, autoescape=True)]
    if wanted.isdigit():
        clauses.append(Worker.citizen_id.endswith(wanted, autoescape=True))
    return or_(*clauses)


def worker_rows(session, enterprise_id: int, *, which: str = "all", query: str = "", page: int = 1,
                per_page: int = 50) -> Page:
    """Return a page of the enterprise's active workers that ``which`` and ``query`` select, in name order."""
    statement = _rows_statement(enterprise_id)
    for clause in (_filter_clause(which), _search_clause(query)):
        if clause is not None:
            statement = statement.where(clause)
    any_card = aliased(Pass)  # not the outer query's active card
    held_one = select(any_card.id).where(any_card.worker_id == Worker.id).exists().label("has_history")
    statement = statement.add_columns(held_one).order_by(Worker.name_key, Worker.id)
    found = paginate(session, statement, page=page, per_page=per_page, scalars=False)
    found.items = [WorkerRow(worker, snapshot, pass_, bool(held))
                   for worker, snapshot, pass_, held in found.items]
    return found


def snapshot_of(session, worker_id: int) -> EligibilitySnapshot | None:
    """Return the worker's eligibility as last evaluated (None: not evaluated yet)."""
    return session.get(EligibilitySnapshot, worker_id)


@dataclass(frozen=True)
class RowCounts:
    """How many active workers each filter selects, and how current their eligibility is."""

    all: int
    eligible: int
    with_pass: int
    not_evaluated: int
    stale: int  # evaluated before today
    as_of: date | None  # the oldest evaluation

    @property
    def ineligible(self) -> int:
        return self.all - self.eligible

    @property
    def without_pass(self) -> int:
        return self.all - self.with_pass

    @property
    def current(self) -> bool:
        return not self.stale and not self.not_evaluated

    def __getitem__(self, which: str) -> int:
        return getattr(self, which)


def row_counts(session, enterprise_id: int, today: date) -> RowCounts:
    """Count the enterprise's active workers per filter, in one query."""
    snapshot = EligibilitySnapshot
    counted = _rows_statement(enterprise_id).with_only_columns(
        func.count(),
        func.count().filter(snapshot.eligible.is_(True)),
        func.count(Pass.id),
        func.count().filter(snapshot.worker_id.is_(None)),
        # An erased worker's row is final (portal.privacy): old, but never stale.
        func.count().filter(snapshot.evaluated_on < today, Worker.erased_at.is_(None)),
        func.min(snapshot.evaluated_on),
    )
    total, eligible, with_pass, missing, stale, oldest = session.execute(counted).one()
    return RowCounts(total, eligible, with_pass, missing, stale, oldest)


# ---------------------------------------------------------------------------
# Officials: an enterprise's cards
# ---------------------------------------------------------------------------

def enterprise_passes(session, enterprise_id: int, *, query: str = "", page: int = 1, per_page: int = 20) -> Page:
    """Return a page of an enterprise's passes, active first, for its officials (search by serial or name)."""
    statement = (select(Pass).join(Worker, Worker.id == Pass.worker_id)
                 .where(Pass.enterprise_id == enterprise_id)
                 .options(joinedload(Pass.worker))
                 .order_by(Pass.status, Worker.name_key, Pass.id))
    query = query.strip()
    if query:
        statement = statement.where(Pass.serial.icontains(query, autoescape=True)
                                    | Worker.name_key.contains(fold(query), autoescape=True))
    return paginate(session, statement, page=page, per_page=per_page)
