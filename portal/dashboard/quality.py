"""Data quality: the workers whose records block eligibility, by enterprise, from the eligibility snapshot.

Counted and paged in SQL over the snapshot's partial index of rows with issues (a few percent of rows).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from portal.dashboard.scope import Scope
from portal.eligibility.models import EligibilitySnapshot
from portal.enterprises.models import Enterprise
from portal.messages import Message
from portal.pagination import Page, paginate
from portal.workers.models import Worker


@dataclass
class EnterpriseIssues:
    """How many of an enterprise's workers have each issue (a worker may have several)."""

    enterprise: Enterprise
    workers: int = 0
    by_issue: Counter = field(default_factory=Counter)

    @property
    def enterprise_id(self) -> int:
        return self.enterprise.id

    @property
    def name(self) -> str:
        return self.enterprise.name


@dataclass
class DataQuality:
    """The enterprises with issues, a page at a time, and the totals over all of them."""

    page: Page  # of EnterpriseIssues
    workers: int
    by_issue: Counter


def _split(rows) -> tuple[int, Counter]:
    """Return (workers, their issues counted one by one) from (issues, count) rows."""
    workers, by_issue = 0, Counter()
    for issues, count in rows:
        workers += count
        for issue in issues.split():
            by_issue[issue] += count
    return workers, by_issue


def issues_by_enterprise(session: Session, scope: Scope, *, page: int = 1, per_page: int = 50) -> DataQuality:
    """Return the enterprises in ``scope`` whose workers have issues, most affected first, a page at a time."""
    snapshot = EligibilitySnapshot
    with_issues = (snapshot.issues != "", scope.where(snapshot.unit_id))
    per_enterprise = (select(snapshot.enterprise_id, func.count().label("workers")).where(*with_issues)
                      .group_by(snapshot.enterprise_id).subquery())
    listed = paginate(session, select(Enterprise, per_enterprise.c.workers)
                      .join(per_enterprise, per_enterprise.c.enterprise_id == Enterprise.id)
                      .options(selectinload(Enterprise.unit))
                      .order_by(per_enterprise.c.workers.desc(), Enterprise.name, Enterprise.id),
                      page=page, per_page=per_page, scalars=False)
    items = {enterprise.id: EnterpriseIssues(enterprise, workers) for enterprise, workers in listed.items}
    rows = session.execute(select(snapshot.enterprise_id, snapshot.issues, func.count())
                           .where(*with_issues, snapshot.enterprise_id.in_(items))
                           .group_by(snapshot.enterprise_id, snapshot.issues))
    for enterprise_id, issues, count in rows:
        for issue in issues.split():
            items[enterprise_id].by_issue[issue] += count
    listed.items = list(items.values())
    workers, by_issue = _split(session.execute(
        select(snapshot.issues, func.count()).where(*with_issues).group_by(snapshot.issues)))
    return DataQuality(listed, workers, by_issue)


@dataclass(frozen=True)
class WorkerIssue:
    """A worker whose record blocks eligibility, with the issues found and the rule's own words."""

    worker: Worker
    issues: tuple[str, ...]
    reason: Message | None


def workers_with_issues(session: Session, enterprise_id: int, *, page: int, per_page: int = 50) -> Page:
    """Return a page of the enterprise's workers with issues, by name, each with the rule's reason as evaluated."""
    snapshot = EligibilitySnapshot
    listed = paginate(session, select(Worker, snapshot.issues, snapshot.reason)
                      .join(snapshot, snapshot.worker_id == Worker.id)
                      .where(snapshot.enterprise_id == enterprise_id, snapshot.issues != "")
                      .order_by(Worker.name_key, Worker.id), page=page, per_page=per_page, scalars=False)
    listed.items = [WorkerIssue(worker, tuple(issues.split()), Message.from_json(reason) if reason else None)
                    for worker, issues, reason in listed.items]
    return listed
