"""Counts keyed by named tuples (unit, sector, state…), and their sums over any fields."""
from __future__ import annotations

import itertools
from collections import Counter, namedtuple

EnterpriseKey = namedtuple("EnterpriseKey", "unit_id sector status")
WorkerKey = namedtuple("WorkerKey", "unit_id sector")
EligibilityKey = namedtuple("EligibilityKey", "unit_id sector eligible basis")
PassKey = namedtuple("PassKey", "unit_id sector state")
ScanKey = namedtuple("ScanKey", "day unit_id sector outcome")


class Tally(Counter):
    """Counts keyed by named tuples, summed over any of their fields without rescanning every key."""

    def __init__(self, *args, **kwargs) -> None:
        self._sums: dict[tuple[str, ...], Counter] = {}
        super().__init__(*args, **kwargs)

    def __setitem__(self, key, value) -> None:
        self._sums = {}
        super().__setitem__(key, value)

    def __delitem__(self, key) -> None:
        self._sums = {}
        super().__delitem__(key)

    def sum_where(self, **criteria) -> int:
        """Sum the counts whose key fields equal ``criteria`` (a tuple value means any of its items)."""
        names = tuple(sorted(criteria))
        sums = self._sums.get(names)
        if sums is None:
            sums = self._sums[names] = Counter()
            for key, count in self.items():
                sums[tuple(getattr(key, name) for name in names)] += count
        choices = [value if isinstance(value, tuple) else (value,) for value in (criteria[n] for n in names)]
        return sum(sums.get(combination, 0) for combination in itertools.product(*choices))


def total(counter: Tally, **criteria) -> int:
    """Sum the counts whose key fields equal ``criteria`` (a tuple value means any of its items)."""
    return counter.sum_where(**criteria)
