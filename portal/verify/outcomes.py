"""The outcomes of a checkpoint scan, defined once: the screens, the JSON answer and the dashboard read them here.

Each outcome has a signal that never stands alone: the screen shows a big word, an icon of its own
shape and a plain instruction for the officer beside the colour. Only a valid card is green; a
genuine card outside its hours is amber; everything that must not be accepted is red.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from flask_babel import lazy_gettext as _l


class Outcome(str, Enum):
    VALID = "valid"
    OUTSIDE_WINDOW = "outside_window"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"
    INVALID = "invalid"


class Signal(str, Enum):
    """What the officer does: let through, hold (genuine, wrong hour), or refuse."""

    GO = "green"
    HOLD = "amber"
    STOP = "red"


#: Icon shapes, so that the signal does not depend on seeing colours.
ICONS = {Signal.GO: "✓", Signal.HOLD: "!", Signal.STOP: "✕"}


@dataclass(frozen=True)
class OutcomeLabel:
    """How one outcome is shown and counted."""

    outcome: Outcome
    signal: Signal
    #: The big word on the checkpoint screen.
    word: str
    #: The outcome's name in figures and tables (the dashboard, the evaluation report).
    label: str
    #: What the answer means, in one sentence.
    meaning: str
    #: What the officer does now.
    instruction: str
    #: Its colour in the dashboard's charts.
    chart_colour: str

    @property
    def code(self) -> str:
        return self.outcome.value

    @property
    def icon(self) -> str:
        return ICONS[self.signal]


#: Every outcome, in the order the screens' tests and the dashboard's tables list them.
OUTCOMES: tuple[OutcomeLabel, ...] = (
    OutcomeLabel(
        Outcome.VALID, Signal.GO, _l("VALID"), _l("Valid"),
        _l("This green card is valid now."),
        _l("Compare the name and year of birth with the holder's ID card, then let them pass."),
        "#0b7a3e"),
    OutcomeLabel(
        Outcome.OUTSIDE_WINDOW, Signal.HOLD, _l("OUTSIDE TRAVEL HOURS"), _l("Outside travel hours"),
        _l("The card is genuine, but its holder may not travel at this hour."),
        _l("Do not let them pass on this card now: outside its hours a journey needs the travel permit "
           "(giấy đi đường)."),
        "#c98a00"),
    OutcomeLabel(
        Outcome.NOT_YET_VALID, Signal.STOP, _l("NOT YET VALID"), _l("Not valid yet"),
        _l("This card's validity has not started yet."),
        _l("Do not accept this card before its first day. Ask for the travel permit (giấy đi đường)."),
        "#1d4f91"),
    OutcomeLabel(
        Outcome.EXPIRED, Signal.STOP, _l("EXPIRED"), _l("Expired"),
        _l("This card's validity has ended."),
        _l("Do not accept this card. Ask for the travel permit (giấy đi đường); the enterprise can issue "
           "a new card."),
        "#7b8794"),
    OutcomeLabel(
        Outcome.REVOKED, Signal.STOP, _l("REVOKED"), _l("Revoked"),
        _l("This card was revoked and must not be accepted."),
        _l("Do not accept this card. Ask for the travel permit (giấy đi đường)."),
        "#b3261e"),
    OutcomeLabel(
        Outcome.SUPERSEDED, Signal.STOP, _l("SUPERSEDED"), _l("Superseded"),
        _l("A newer version of this card was issued; this one is no longer valid."),
        _l("Do not accept this card. Ask for the holder's newest card or the travel permit (giấy đi đường)."),
        "#5b3c88"),
    OutcomeLabel(
        Outcome.INVALID, Signal.STOP, _l("NOT VALID"), _l("Not valid"),
        _l("This code is not a genuine green card of the portal (forged, damaged or unknown)."),
        _l("Do not accept it. Check the holder's identity papers and travel permit (giấy đi đường)."),
        "#6a1b9a"),
)

OUTCOME_CODES: tuple[str, ...] = tuple(item.code for item in OUTCOMES)
_BY_CODE = {item.code: item for item in OUTCOMES}


def outcome_label(outcome: Outcome | str) -> OutcomeLabel:
    """Return how ``outcome`` (an Outcome or its code) is shown."""
    return _BY_CODE[outcome.value if isinstance(outcome, Outcome) else outcome]
