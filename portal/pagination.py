"""Pages of a list held in memory, shaped like Flask-SQLAlchemy's pagination (for the ``pagination`` macro)."""
from __future__ import annotations

from dataclasses import dataclass


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
