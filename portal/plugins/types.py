"""The small frozen values that plugins and the core hand each other.

Plugins never see ORM objects: they receive these facts and answer with these decisions,
so a rule can be tested without a database.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from enum import Enum

# ---------------------------------------------------------------------------
# Declarations
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class UnitDescriptor:
    """Who a pilot unit is.

    ``short_code`` (2-4 capital letters or digits, starting with a letter, such as ``Q7``) is the
    unit's printed identifier: it prefixes every card's serial and is inside every QR token, so it
    can never change once the unit has issued a card (the portal refuses to start if it does).
    ``code`` (lowercase, such as ``district7``) is the unit's name inside the portal: the database
    row, the official's account and ``PORTAL_DISABLED_PLUGINS`` refer to it; it is also the name of
    the plugin's entry point.
    """

    code: str
    short_code: str
    name_vi: str
    name_en: str
    authority_vi: str
    authority_en: str
    travel_note_vi: str = ""
    travel_note_en: str = ""


@dataclass(frozen=True)
class BusinessType:
    """A kind of business a unit admits, such as essential production."""

    code: str
    name_vi: str
    name_en: str


@dataclass(frozen=True)
class Sector:
    """An economic sector an enterprise declares, such as food supply."""

    code: str
    name_vi: str
    name_en: str


@dataclass(frozen=True)
class Location:
    """A listed premises (export-processing zone, industrial zone, park) an enterprise must be inside."""

    code: str
    name_vi: str
    name_en: str


@dataclass(frozen=True)
class Shift:
    """A named working shift; ``end`` before ``start`` means it crosses midnight."""

    code: str
    name_vi: str
    name_en: str
    start: time
    end: time
    aliases: tuple[str, ...] = ()

    def journeys_outside(self, windows: Iterable[CommuteWindow]) -> tuple[str, ...]:
        """Return the journeys ("to_work", "to_home") this shift makes outside every window.

        The journey to work is counted at the shift's start, the journey home at its end; like the
        checkpoint, only the time of day counts, not the window's direction.
        """
        windows = tuple(windows)
        journeys = (("to_work", self.start), ("to_home", self.end))
        return tuple(journey for journey, moment in journeys
                     if not any(window.contains(moment) for window in windows))


@dataclass(frozen=True)
class CommuteWindow:
    """A daily window, in HCMC local time, during which a pass holder may travel.

    Both ends are inclusive to the second: 06:30:00–08:00:00 admits 08:00:00 and refuses 08:00:01.
    ``end`` before ``start`` means the window crosses midnight.
    """

    start: time
    end: time
    direction: str = "to_work"  # "to_work" (home → workplace) or "to_home"

    def contains(self, moment: time) -> bool:
        """Say whether a local time of day (to the second) falls inside the window."""
        moment = moment.replace(microsecond=0)
        if self.start <= self.end:
            return self.start <= moment <= self.end
        return moment >= self.start or moment <= self.end

    def label(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


# ---------------------------------------------------------------------------
# Facts given to rules
# ---------------------------------------------------------------------------

class Provenance(str, Enum):
    """Where a fact about a worker's health stands against the health sector's registry.

    ``declared``: as HR typed it, not yet compared; ``confirmed``: the registry holds the same;
    ``conflicting``: the registry holds it differently (``differences`` says what); ``not_found``:
    the registry was asked about the worker and does not hold it.
    """

    DECLARED = "declared"
    CONFIRMED = "confirmed"
    CONFLICTING = "conflicting"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Dose:
    """One vaccine dose as registered: ``doses_required`` is the product's primary series length.

    ``provenance`` is a :class:`Provenance` value; ``differences`` names what the registry holds
    differently when it is ``conflicting`` (``("given_on", "product")``).
    """

    number: int
    product: str
    product_name: str
    doses_required: int
    given_on: date | None
    provenance: str = Provenance.DECLARED.value
    differences: tuple[str, ...] = ()


@dataclass(frozen=True)
class NegativeTest:
    """A worker's latest negative test: ``kind`` is "pcr", "rapid" or "unknown" (not recorded)."""

    kind: str
    taken_on: date
    provenance: str = Provenance.DECLARED.value
    differences: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorkerFacts:
    """What a rule may know about a worker (no names, no ID numbers)."""

    date_of_birth: date | None
    sex: str | None
    shift: str | None
    job_title: str
    doses: tuple[Dose, ...] = ()
    recovered_on: date | None = None
    negative_test: NegativeTest | None = None
    sector: str | None = None
    business_type: str | None = None
    #: Where ``recovered_on`` stands against the registry (a :class:`Provenance` value), and what differs.
    recovery_provenance: str = Provenance.DECLARED.value
    recovery_differences: tuple[str, ...] = ()
    #: The day the worker's card was revoked because they tested positive, while no recovery or negative
    #: test dated after it is recorded (None otherwise): the worker is on hold and may hold no card.
    positive_hold_since: date | None = None


@dataclass(frozen=True)
class EnterpriseFacts:
    """What an admission rule may know about an enterprise applying to a unit."""

    tax_code: str
    business_type: str
    sector: str
    location: str | None
    ward: str
    district: str


# ---------------------------------------------------------------------------
# Decisions returned by rules
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Admission:
    """Whether a unit admits an enterprise; ``reason`` is shown to officials and HR when refused."""

    admitted: bool
    reason: str = ""


class Basis(str, Enum):
    """Why a worker is or is not eligible; the dashboard groups refusals by these."""

    VACCINATED = "vaccinated"
    RECOVERED = "recovered"
    NOT_VACCINATED = "not_vaccinated"
    PARTIALLY_VACCINATED = "partially_vaccinated"
    WAITING_PERIOD = "waiting_period"
    RECOVERY_EXPIRED = "recovery_expired"
    TEST_REQUIRED = "test_required"
    MISSING_DATA = "missing_data"
    UNCONFIRMED = "unconfirmed"
    POSITIVE_HOLD = "positive_hold"
    OTHER = "other"


@dataclass(frozen=True)
class Eligibility:
    """A rule's answer for one worker on one day.

    ``reason`` is a translated (lazy) string shown to HR. ``since`` is the first day eligible
    (or, when not yet eligible, the day the worker will become eligible if nothing changes);
    ``until`` is the last day the basis holds (inclusive), or None when open-ended.
    """

    eligible: bool
    basis: Basis
    reason: str
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class Validity:
    """The local days a pass is valid, both inclusive."""

    valid_from: date
    valid_until: date


@dataclass(frozen=True)
class PassFacts:
    """What an event or pass-printing hook may know about a pass."""

    serial: str
    version: int
    unit: str
    enterprise_tax_code: str
    valid_from: date
    valid_until: date
    windows: tuple[CommuteWindow, ...] = field(default_factory=tuple)


# ---------------------------------------------------------------------------
# The health registry
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class RegistryRecord:
    """One row of the health sector's registry, as an extract or a live connector gives it.

    ``kind`` is "vaccination" (``dose_number``, ``on_date`` given, ``product``, ``place``),
    "recovery" (``on_date`` the positive test, ``recovered_on``, ``place`` the issuing facility) or
    "test" (``on_date`` taken, ``test_kind`` "pcr" or "rapid", ``result`` "negative" or "positive").
    Records are matched to workers by ``citizen_id`` and ``date_of_birth``; ``full_name`` is compared
    after folding diacritics and shown when it differs.
    """

    kind: str
    citizen_id: str
    date_of_birth: date | None
    on_date: date
    full_name: str = ""
    dose_number: int | None = None
    product: str = ""
    place: str = ""
    recovered_on: date | None = None
    test_kind: str = ""
    result: str = ""


@dataclass(frozen=True)
class RegistryConnector:
    """A live connection to the health registry that a deployment adds (``portal_health_registry_connector``).

    ``fetch(kind, citizen_ids)`` returns the registry's records of ``kind`` for those citizen IDs
    (any iterable of :class:`RegistryRecord`); the portal asks it in batches and matches the answer
    like an uploaded extract.
    """

    code: str
    name: str
    fetch: Callable[[str, Sequence[str]], Iterable[RegistryRecord]]
