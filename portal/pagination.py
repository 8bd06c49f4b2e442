"""Pages of a list, shaped like Flask-SQLAlchemy's pagination (for the ``pagination`` macro).

:func:`paginate` pages a SELECT in SQL with the session it is given (services never reach for
``db.session``); :meth:`Page.of` pages a list already in memory (a stored import report).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select


@dataclass
class Page:
    """One page of a list, shaped like Flask-SQLAlchemy's pagination for the ``pagination`` macro."""

    items: list
    page: int
    per_page: int
    total: int

    @classmethod
    def of(cls, items: list, page: int, per_page: int) -> Page:
        """Return page ``page`` (clamped to the pages there are) of a list held in memory."""
        page = min(max(page, 1), max(1, -(-len(items) // per_page)))
        return cls(items[(page - 1) * per_page:page * per_page], page, per_page, len(items))

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def paginate(session, statement, *, page: int, per_page: int, scalars: bool = True) -> Page:
    """Return page ``page`` (clamped to the pages there are) of ``statement``, counted and sliced in SQL.

    With ``scalars`` the items are the first column's objects (``select(Model)``); otherwise rows.
    """
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    page = min(max(page or 1, 1), max(1, -(-total // per_page)))
    result = session.execute(statement.limit(per_page).offset((page - 1) * per_page))
    items = result.unique().scalars().all() if scalars else result.all()
    return Page(list(items), page, per_page, total)
