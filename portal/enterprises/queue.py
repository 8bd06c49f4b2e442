"""What officials and HR see of enterprises: the officials' queue, and how many workers each has."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from portal.auth.access import enterprise_filter
from portal.auth.models import User
from portal.enterprises.models import Enterprise, EnterpriseStatus
from portal.pagination import Page, paginate
from portal.text import clean_text, fold
from portal.units.models import PilotUnit
from portal.vocabulary import ENTERPRISE_STATUS_LABELS
from portal.workers.models import Worker


def active_worker_counts(session: Session, enterprise_ids: list[int]) -> dict[int, int]:
    """Return {enterprise id: active workers} with one grouped query."""
    if not enterprise_ids:
        return {}
    rows = session.execute(
        select(Worker.enterprise_id, func.count()).where(Worker.enterprise_id.in_(enterprise_ids),
                                                         Worker.active.is_(True))
        .group_by(Worker.enterprise_id)
    )
    return dict(rows.all())


@dataclass(frozen=True)
class QueueFilters:
    """What an official asked the queue for; ``status`` "all" shows every status."""

    status: str = EnterpriseStatus.PENDING.value
    sector: str = ""
    search: str = ""
    unit: str = ""
    page: int = 1


@dataclass
class Queue:
    page: Page  # of Enterprise
    worker_counts: dict[int, int]
    status_counts: dict[str, int]
    approved_by_unit: dict[str, int]


def _search_clause(text: str):
    folded = fold(clean_text(text))
    if not folded:
        return None
    clauses = [Enterprise.name_key.contains(folded, autoescape=True)]
    digits = re.sub(r"[\s.\-]", "", folded)
    if digits.isdigit():
        clauses.append(Enterprise.tax_code.contains(digits, autoescape=True))
    return or_(*clauses)


def queue(session: Session, user: User, filters: QueueFilters, per_page: int = 25) -> Queue:
    """Return one page of the enterprises ``user`` oversees, with counts, in a fixed number of queries."""
    scope = [enterprise_filter(user, Enterprise)]
    if filters.unit:
        scope.append(Enterprise.unit_id == select(PilotUnit.id).where(PilotUnit.code == filters.unit).scalar_subquery())
    approved_by_unit = dict(session.execute(
        select(PilotUnit.code, func.count(Enterprise.id)).join(Enterprise, Enterprise.unit_id == PilotUnit.id)
        .where(*scope, Enterprise.status == EnterpriseStatus.APPROVED.value).group_by(PilotUnit.code)
    ).all())
    matching = list(scope)
    if filters.sector:
        matching.append(Enterprise.sector == filters.sector)
    search = _search_clause(filters.search)
    if search is not None:
        matching.append(search)
    status_counts = dict(session.execute(
        select(Enterprise.status, func.count()).where(*matching).group_by(Enterprise.status)
    ).all())
    statement = select(Enterprise).where(*matching).options(joinedload(Enterprise.unit))
    if filters.status in ENTERPRISE_STATUS_LABELS:
        statement = statement.where(Enterprise.status == filters.status)
    # The oldest application first: it has waited longest.
    statement = statement.order_by(Enterprise.created_at, Enterprise.id)
    page = paginate(session, statement, page=filters.page, per_page=per_page)
    counts = active_worker_counts(session, [enterprise.id for enterprise in page.items])
    return Queue(page=page, worker_counts=counts, status_counts=status_counts, approved_by_unit=approved_by_unit)
