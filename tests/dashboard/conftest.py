"""A pilot seeded with varied data, and the figures it must show, computed here independently."""
from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from html.parser import HTMLParser

import pytest

from portal.testing.fixtures import TEST_PASSWORD, make_enterprise, make_worker

UTC = UTC
HCMC_OFFSET = timedelta(hours=7)  # written out here so the tests do not share the code's conversion


def hcmc_day(instant: datetime) -> date:
    """The Ho Chi Minh City calendar day of an aware instant (UTC+7, no daylight saving)."""
    return (instant.astimezone(UTC) + HCMC_OFFSET).date()


def hcmc_midnight(day: date) -> datetime:
    """The UTC instant at which ``day`` starts in Ho Chi Minh City."""
    return datetime.combine(day, time.min, tzinfo=UTC) - HCMC_OFFSET


@dataclass
class Pilot:
    """The seeded data's ids and the figures a correct dashboard shows, per unit code."""

    today: date
    now: datetime
    units: dict[str, int] = field(default_factory=dict)  # code -> id
    official_cangio: str = "canbo.cangio@example.vn"
    enterprises: list[tuple[str, str, str]] = field(default_factory=list)  # (unit, sector, status)
    enterprise_ids: dict[str, int] = field(default_factory=dict)
    workers: dict[str, int] = field(default_factory=dict)  # label -> id
    bases: list[tuple[str, bool, str]] = field(default_factory=list)  # (unit, eligible, basis), active only
    passes: list[tuple[str, str, date]] = field(default_factory=list)  # (unit, state now, local day issued)
    superseded: Counter = field(default_factory=Counter)  # unit -> older versions
    scans: list[tuple[datetime, str | None, str | None, str]] = field(default_factory=list)

    def count_enterprises(self, unit=None, status=None, sector=None) -> int:
        return sum(1 for u, s, st in self.enterprises
                   if unit in (None, u) and status in (None, st) and sector in (None, s))

    def count_bases(self, unit=None, eligible=None, basis=None) -> int:
        return sum(1 for u, e, b in self.bases
                   if unit in (None, u) and eligible in (None, e) and basis in (None, b))

    def count_passes(self, unit=None, state=None) -> int:
        return sum(1 for u, s, _d in self.passes if unit in (None, u) and state in (None, s))

    def scans_per_day(self, unit=None, first=None, last=None) -> Counter:
        found = Counter()
        for at, u, _sector, outcome in self.scans:
            day = hcmc_day(at)
            if (unit is None or u == unit) and (first is None or day >= first) and (last is None or day <= last):
                found[day, outcome] += 1
        return found


_serials = itertools.count(1)


def _cccd(born: date, sex: str) -> str:
    from portal.workers.identity import make_cccd

    return make_cccd(79, born, sex, 500_000 + next(_serials))


def _add_worker(session, pilot: Pilot, enterprise, unit: str, label: str, basis: str, eligible: bool, *,
                active=True, **kwargs):
    born = kwargs.pop("born", date(1988, 3, 9))
    sex = kwargs.pop("sex", "M")
    citizen_id = kwargs.pop("citizen_id", None) or _cccd(born, sex)
    tested_on = kwargs.pop("tested_on", None)
    worker = make_worker(session, enterprise, citizen_id=citizen_id, name=kwargs.pop("name", f"Người lao động {label}"),
                         sex=sex, born=born, **kwargs)
    worker.active = active
    if tested_on:
        worker.test_kind, worker.tested_on = "pcr", tested_on
    session.flush()
    pilot.workers[label] = worker.id
    if active:
        pilot.bases.append((unit, eligible, basis))
    return worker


def _add_pass(session, pilot: Pilot, worker, unit: str, state: str, *, version=1, issued_days_ago=3):
    from portal.passes.models import Pass

    today, now = pilot.today, pilot.now
    starts = {"valid": today - timedelta(days=5), "upcoming": today + timedelta(days=1),
              "expired": today - timedelta(days=40), "revoked": today - timedelta(days=5)}
    ends = {"valid": today + timedelta(days=170), "upcoming": today + timedelta(days=180),
            "expired": today - timedelta(days=2), "revoked": today + timedelta(days=170)}
    serial = f"T{next(_serials):08d}"
    session.add(Pass(
        serial=serial, version=version, worker_id=worker.id, enterprise_id=worker.enterprise_id,
        unit_id=pilot.units[unit], valid_from=hcmc_midnight(starts[state]),
        valid_until=hcmc_midnight(ends[state] + timedelta(days=1)), windows=[], route_from="Nhà", route_to="Công ty",
        content_digest="0" * 64, status="revoked" if state == "revoked" else "active",
        revoked_at=now - timedelta(days=1) if state == "revoked" else None,
        issued_at=now - timedelta(days=issued_days_ago),
    ))
    pilot.passes.append((unit, state, hcmc_day(now - timedelta(days=issued_days_ago))))
    pilot.superseded[unit] += version - 1


def _scans(pilot: Pilot, sectors: dict[str, str]) -> list[tuple[datetime, str | None, str | None, str]]:
    today = pilot.today
    d3 = hcmc_midnight(today - timedelta(days=3))
    d10 = today - timedelta(days=10)
    # The local day d10 ends at 16:59:59 UTC; 17:00 UTC belongs to the next local day.
    d10_utc = datetime.combine(d10, time(16, 59, 59), tzinfo=UTC)
    # 23:30 UTC on the day before d5 (UTC) is 06:30 on d5 in Ho Chi Minh City.
    d5_late_utc = datetime.combine(today - timedelta(days=6), time(23, 30), tzinfo=UTC)
    d7, cg = "district7", "cangio"
    return [
        (d3 - timedelta(seconds=1), d7, sectors[d7], "valid"),        # last second of d4
        (d3, d7, sectors[d7], "valid"),                                # first second of d3
        (d3 + timedelta(minutes=30), d7, sectors[d7], "outside_window"),
        (d3 + timedelta(hours=2), cg, sectors[cg], "valid"),
        (d3 + timedelta(hours=3), None, None, "invalid"),
        (d10_utc, d7, sectors[d7], "expired"),                         # local d10 23:59:59
        (d10_utc + timedelta(seconds=1), d7, sectors[d7], "revoked"),  # local d9 00:00:00
        (d5_late_utc, cg, sectors[cg], "superseded"),
        (d5_late_utc, d7, sectors[d7], "valid"),
        (hcmc_midnight(today - timedelta(days=1)) + timedelta(hours=8), cg, sectors[cg], "valid"),
        (hcmc_midnight(today - timedelta(days=1)) + timedelta(hours=9), "cugi", "food_supply", "outside_window"),
        (hcmc_midnight(today), d7, sectors[d7], "valid"),              # today's first second (counted live)
        (hcmc_midnight(today), None, None, "invalid"),
        (hcmc_midnight(today - timedelta(days=29)) + timedelta(hours=12), d7, sectors[d7], "valid"),
        (hcmc_midnight(today - timedelta(days=30)) + timedelta(hours=12), d7, sectors[d7], "valid"),  # day 31
        (hcmc_midnight(today - timedelta(days=20)) + timedelta(hours=7), cg, "food_supply", "expired"),
    ]


def seed_pilot(app, world) -> Pilot:
    from portal.auth.models import Role
    from portal.auth.services import create_user
    from portal.clock import local_today, utcnow
    from portal.enterprises.models import Enterprise
    from portal.extensions import db
    from portal.units.services import unit_row
    from portal.verify.models import VerificationRecord

    registry = app.extensions["portal.plugins"].registry
    now = utcnow()
    pilot = Pilot(today=local_today(now), now=now)
    ago = lambda days: pilot.today - timedelta(days=days)  # noqa: E731
    with app.app_context():
        session = db.session
        for code in ("district7", "cugi", "cangio"):
            pilot.units[code] = unit_row(session, registry, code).id
        create_user(session, email=pilot.official_cangio, password=TEST_PASSWORD, full_name="Huỳnh Văn Giờ",
                    role=Role.OFFICIAL, unit=session.get(type(unit_row(session, registry, "cangio")),
                                                         pilot.units["cangio"]))

        def enterprise(unit, name, tax, sector, status):
            row = make_enterprise(session, registry, unit, name, tax, status=status)
            row.sector = sector
            session.flush()
            pilot.enterprises.append((unit, sector, status))
            pilot.enterprise_ids[name] = row.id
            return row

        a = session.get(Enterprise, world.enterprise_a)
        b = session.get(Enterprise, world.enterprise_b)
        pilot.enterprises += [("district7", a.sector, "approved"), ("cugi", b.sector, "approved")]
        pilot.enterprise_ids.update({"A": a.id, "B": b.id})
        logistics = enterprise("district7", "Công ty CP Logistics Tân Thuận", "0309999991", "logistics", "approved")
        pending = enterprise("district7", "Công ty TNHH Dược Phú Mỹ", "0309999992", "pharma_medical", "pending")
        enterprise("district7", "Siêu thị Tân Phong", "0309999993", "food_retail", "rejected")
        suspended = enterprise("district7", "Công ty Điện nước Q7", "0309999994", "utilities", "suspended")
        tourism = enterprise("cangio", "Công ty TNHH Du lịch Rừng Sác", "0309999995", "local_tourism", "approved")
        food = enterprise("cangio", "Hợp tác xã Thủy sản Cần Thạnh", "0309999996", "food_supply", "approved")
        enterprise("cangio", "Công ty Vật tư Nông nghiệp Cần Giờ", "0309999997", "agri_inputs", "pending")

        full = [("astrazeneca", ago(60)), ("astrazeneca", ago(30))]
        pilot.workers["worker_a"], pilot.workers["worker_b"] = world.worker_a, world.worker_b
        pilot.bases += [("district7", True, "vaccinated"), ("cugi", True, "vaccinated")]
        d7 = "district7"
        recovered = _add_worker(session, pilot, a, d7, "recovered", "recovered", True, recovered_on=ago(20))
        _add_worker(session, pilot, a, d7, "none", "not_vaccinated", False)
        _add_worker(session, pilot, a, d7, "one_dose", "partially_vaccinated", False, doses=[("astrazeneca", ago(10))])
        waiting = _add_worker(session, pilot, a, d7, "waiting", "waiting_period", False,
                              doses=[("pfizer", ago(40)), ("pfizer", ago(5))])
        _add_worker(session, pilot, a, d7, "old_recovery", "recovery_expired", False, recovered_on=ago(200))
        _add_worker(session, pilot, a, d7, "no_date", "missing_data", False,
                    doses=[("pfizer", ago(60)), ("pfizer", None)])
        l1 = _add_worker(session, pilot, logistics, d7, "log1", "vaccinated", True, doses=full)
        l2 = _add_worker(session, pilot, logistics, d7, "log2", "vaccinated", True, doses=full)
        _add_worker(session, pilot, logistics, d7, "log_none", "not_vaccinated", False)
        # Structurally wrong for a man born in 1990 (the fourth digit says a woman): an ID a later rule rejects.
        bad_id = _add_worker(session, pilot, logistics, d7, "bad_id", "vaccinated", True, doses=full,
                             born=date(1990, 1, 1), sex="M", citizen_id="079190123456")
        _add_worker(session, pilot, logistics, d7, "left", "vaccinated", True, doses=full, active=False)
        _add_worker(session, pilot, pending, d7, "pending_none", "not_vaccinated", False)
        _add_worker(session, pilot, suspended, d7, "suspended_full", "vaccinated", True, doses=full)
        cg = "cangio"
        _add_worker(session, pilot, tourism, cg, "no_test", "test_required", False, doses=full)
        _add_worker(session, pilot, tourism, cg, "old_test", "test_required", False, doses=full, tested_on=ago(5))
        tested = _add_worker(session, pilot, tourism, cg, "tested", "vaccinated", True, doses=full,
                             tested_on=pilot.today)
        _add_worker(session, pilot, food, cg, "cg_recovered", "recovered", True, recovered_on=ago(100))
        _add_worker(session, pilot, food, cg, "cg_waiting", "waiting_period", False,
                    doses=[("moderna", ago(35)), ("moderna", ago(7))])

        from portal.workers.models import Worker
        worker_a, worker_b = session.get(Worker, world.worker_a), session.get(Worker, world.worker_b)
        _add_pass(session, pilot, worker_a, d7, "valid", version=3, issued_days_ago=10)
        _add_pass(session, pilot, recovered, d7, "expired", issued_days_ago=40)
        _add_pass(session, pilot, l1, d7, "revoked", issued_days_ago=20)
        _add_pass(session, pilot, l1, d7, "valid", issued_days_ago=1)
        _add_pass(session, pilot, l2, d7, "valid", version=2, issued_days_ago=2)
        _add_pass(session, pilot, bad_id, d7, "upcoming", issued_days_ago=0)
        _add_pass(session, pilot, tested, cg, "valid", issued_days_ago=0)
        _add_pass(session, pilot, worker_b, "cugi", "valid", issued_days_ago=5)
        del waiting

        sectors = {"district7": a.sector, "cangio": "local_tourism"}
        pilot.scans = _scans(pilot, sectors)
        for at, unit, sector, outcome in pilot.scans:
            session.add(VerificationRecord(at=at, outcome=outcome, unit_id=pilot.units[unit] if unit else None,
                                           sector=sector))
        session.commit()
    return pilot


@pytest.fixture
def pilot(app, world) -> Pilot:
    return seed_pilot(app, world)


class _Tables(HTMLParser):
    """Collect every table's cell texts, by the table's id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._stack: list[str] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._stack.append(dict(attrs).get("id", ""))
            self.tables.setdefault(self._stack[-1], [])
        elif tag == "tr" and self._stack:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "table" and self._stack:
            self._stack.pop()
        elif tag == "tr" and self._row is not None and self._stack:
            self.tables[self._stack[-1]].append(self._row)
            self._row = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse_page(html: str) -> _Tables:
    parser = _Tables()
    parser.feed(html)
    parser.close()
    return parser


def kpi(html: str, element_id: str) -> int:
    """Read a key figure: the first ``kpi-value`` inside the element with ``element_id``."""
    import re

    match = re.search(rf'id="{element_id}">\s*<span class="kpi-value">([^<]+)<', html)
    assert match, f"no key figure {element_id}"
    return number(match.group(1))


def number(text: str) -> int:
    """Read a count as the page prints it (Vietnamese groups thousands with '.')."""
    return int(text.replace(".", "").replace(",", "").replace("\u202f", "").replace("\xa0", ""))


def table_rows(html: str, table_id: str) -> dict[str, list[int]]:
    """Return a table's body rows as {row label: [counts]} (header and footer rows skipped)."""
    rows = parse_page(html).tables[table_id]
    found = {}
    for row in rows[1:]:
        try:
            found[row[0]] = [number(cell) for cell in row[1:] if cell not in ("", "—") and not cell.endswith("%")]
        except ValueError:
            continue
    return found


class Read:
    """Helpers the tests use to read pages (a fixture, since test modules cannot import this one)."""

    kpi = staticmethod(kpi)
    number = staticmethod(number)
    table_rows = staticmethod(table_rows)
    parse_page = staticmethod(parse_page)
    hcmc_day = staticmethod(hcmc_day)
    hcmc_midnight = staticmethod(hcmc_midnight)
    seed_pilot = staticmethod(seed_pilot)


@pytest.fixture
def read() -> type[Read]:
    return Read
