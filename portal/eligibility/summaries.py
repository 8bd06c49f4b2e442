"""What the snapshot says about an enterprise or a unit, and how current it is (counted in SQL)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.eligibility.models import EligibilitySnapshot
from portal.enterprises.models import Enterprise
from portal.plugins.registry import UnitRegistry
from portal.units.services import is_active
from portal.vocabulary import INELIGIBLE_BASES
from portal.workers.models import Worker


@dataclass(frozen=True)
class EnterpriseEligibility:
    """An enterprise's active workers, how many are eligible, why the others are not, and as of when."""

    active: int
    evaluated: int  # active workers with a snapshot row
    eligible: int
    #: (basis, workers), most frequent first, ties in the vocabulary's order
    reasons: list[tuple[str, int]] = field(default_factory=list)
    stale: int = 0  # rows evaluated before today
    as_of: date | None = None  # the oldest evaluation counted
    unit_active: bool = True

    @property
    def not_eligible(self) -> int:
        return self.evaluated - self.eligible

    @property
    def not_evaluated(self) -> int:
        return max(self.active - self.evaluated, 0)

    @property
    def current(self) -> bool:
        """Say whether every active worker was evaluated today."""
        return not self.stale and not self.not_evaluated


def enterprise_eligibility(session: Session, registry: UnitRegistry, enterprise: Enterprise,
                           today: date) -> EnterpriseEligibility:
    """Count an enterprise's snapshot rows by eligibility and basis (two queries)."""
    active = session.scalar(select(func.count()).select_from(Worker)
                            .where(Worker.enterprise_id == enterprise.id, Worker.active.is_(True)))
    rows = _grouped(session, enterprise.id, today)
    evaluated = sum(count for _eligible, _basis, count, _oldest, _stale in rows)
    eligible = sum(count for is_eligible, _basis, count, _oldest, _stale in rows if is_eligible)
    order = {basis.value: index for index, basis in enumerate(INELIGIBLE_BASES)}
    reasons = sorted(((basis, count) for is_eligible, basis, count, _oldest, _stale in rows if not is_eligible),
                     key=lambda item: (-item[1], order.get(item[0], len(order)), item[0]))
    oldest = [when for *_rest, when, _stale in rows if when is not None]
    return EnterpriseEligibility(
        active=active, evaluated=evaluated, eligible=eligible, reasons=reasons,
        stale=sum(stale for *_rest, stale in rows), as_of=min(oldest) if oldest else None,
        unit_active=is_active(registry, enterprise.unit.code),
    )


def not_final():
    """Return the condition that a snapshot row may still change: its worker's data was not erased.

    An erased worker's row is final (``portal.privacy``): old, but never stale, and never evaluated again.
    """
    snapshot = EligibilitySnapshot
    return ~select(Worker.id).where(Worker.id == snapshot.worker_id, Worker.erased_at.is_not(None)).exists()


def _grouped(session: Session, enterprise_id: int, today: date) -> list[tuple]:
    """Return (eligible, basis, rows, oldest evaluation, rows older than today) per group."""
    snapshot = EligibilitySnapshot
    stale = func.count().filter(snapshot.evaluated_on < today, not_final())
    return [tuple(row) for row in session.execute(
        select(snapshot.eligible, snapshot.basis, func.count(), func.min(snapshot.evaluated_on), stale)
        .where(snapshot.enterprise_id == enterprise_id)
        .group_by(snapshot.eligible, snapshot.basis)
    )]


# ---------------------------------------------------------------------------
# How current one unit's rows are (the dashboard's "as of")
# ---------------------------------------------------------------------------

@dataclass
class UnitFreshness:
    """How current one unit's eligibility figures are."""

    unit: object  # a PilotUnit
    as_of: datetime | None
    stale: int  # active workers evaluated before today, or not at all


def unit_counts(session: Session, unit_id: int, today: date) -> tuple[int, int, int]:
    """Return (snapshot rows, rows evaluated before ``today``, active workers) of one unit."""
    snapshot = EligibilitySnapshot
    rows = session.scalar(select(func.count()).select_from(snapshot).where(snapshot.unit_id == unit_id))
    active = session.scalar(select(func.count()).select_from(Worker).join(Enterprise)
                            .where(Worker.active, Enterprise.unit_id == unit_id))
    return rows, stale_rows(session, unit_id, today), active


def stale_rows(session: Session, unit_id: int, today: date) -> int:
    """Count one unit's rows evaluated before ``today`` (an erased worker's row is final, never stale)."""
    snapshot = EligibilitySnapshot
    return session.scalar(select(func.count()).select_from(snapshot)
                          .where(snapshot.unit_id == unit_id, snapshot.evaluated_on < today, not_final()))


def unit_freshness(session: Session, unit, today: date, counts: tuple[int, int, int] | None = None) -> UnitFreshness:
    """Return when the unit's stalest row was evaluated and how many active workers lack a current one.

    ``counts`` are the unit's :func:`unit_counts` when the caller has them already.
    """
    snapshot = EligibilitySnapshot
    as_of = session.scalar(select(snapshot.evaluated_at).where(snapshot.unit_id == unit.id)
                           .order_by(snapshot.evaluated_on, snapshot.evaluated_at).limit(1))
    rows, stale, active = counts or unit_counts(session, unit.id, today)
    return UnitFreshness(unit, as_of, stale + max(active - rows, 0) + max(rows - active, 0))
