"""The portal's vocabulary: every status, basis, reason and outcome it stores, with its one label.

What the database keeps is a code (``"suspended"``, ``"waiting_period"``, ``"f0"``); what a page,
a report or a stored message shows is the label defined here, in the reader's language (lazy
strings). Templates reach this module as ``vocabulary`` (``vocabulary.BASIS_LABELS[code]``).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.plugins.types import Basis, Provenance

# ---------------------------------------------------------------------------
# Enterprises
# ---------------------------------------------------------------------------

#: An enterprise's status, in the order the officials' queue lists them.
ENTERPRISE_STATUS_LABELS = {
    "pending": _l("Pending"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "suspended": _l("Suspended"),
}

# ---------------------------------------------------------------------------
# Green cards
# ---------------------------------------------------------------------------

#: A card's badge: its stored status, or "expired" for an active card past its last day.
PASS_STATUS_LABELS = {
    "active": _l("Active"),
    "expired": _l("Expired"),
    "revoked": _l("Revoked"),
}

#: Every badge the ``status_badge`` macro shows (enterprises and cards).
STATUS_LABELS = {**ENTERPRISE_STATUS_LABELS, **PASS_STATUS_LABELS}

#: Cards at one instant, and what happened to them in a period (the dashboard and the report).
PASS_STATE_LABELS = {
    "issued": _l("Issued"),
    "valid": _l("Valid now"),
    "upcoming": _l("Not yet valid"),
    "expired": _l("Expired"),
    "revoked": _l("Revoked"),
    "superseded": _l("Superseded versions"),
}
PASS_FLOW_LABELS = {
    "issued": _l("Issued in the period"),
    "revoked": _l("Revoked in the period"),
    "expired": _l("Expired in the period"),
    "superseded": _l("Replaced by a new version in the period"),
}

#: Why a card was revoked. HR and officials choose among :data:`REVOCATION_CHOICES` (with a note,
#: required for "other"); the portal itself revokes for the others. "f1" and "mistake" are no longer
#: offered; cards revoked for them keep their words ("mistake" is now "data_error":
#: :data:`REVOCATION_ALIASES`).
REVOCATION_REASONS = {
    "left": _l("The worker left the enterprise"),
    "f0": _l("The worker tested positive for COVID-19 (F0)"),
    "data_error": _l("The card carries a data error"),
    "lost_card": _l("The card was lost"),
    "other": _l("Other reason"),
    "f1": _l("The worker is quarantined as a close contact (F1)"),
    "mistake": _l("The card was issued by mistake"),
    "not_eligible": _l("No longer eligible"),
    "enterprise_suspended": _l("The enterprise was suspended from the pilot"),
    "enterprise_rejected": _l("The enterprise's application was rejected"),
    "registry_conflict": _l("The health registry's data, which replaced what was declared, no longer makes the "
                            "worker eligible"),
}
#: What HR and officials choose from, in the order the revoke form lists them (the issue's list).
REVOCATION_CHOICES = ("left", "f0", "data_error", "lost_card", "other")
#: Old codes a caller may still send, and the code they are stored as now.
REVOCATION_ALIASES = {"mistake": "data_error"}
#: The reason that puts the worker on hold until a recovery or a negative test dated after it.
POSITIVE_TEST_REASON = "f0"
#: How a version of a card ended (the card history), and why a newer version replaced it.
VERSION_END_LABELS = {
    "superseded": _l("Replaced by a newer version"),
    "revoked": _l("Revoked"),
}
SUPERSESSION_REASONS = {
    "worker_data_changed": _l("The worker's data changed"),
    "updated": _l("Brought up to date by hand"),
}
#: A reason and what the person added to it ("The worker left the enterprise — moved to Bình Dương").
REASON_WITH_NOTE = _l("%(reason)s — %(note)s")

# ---------------------------------------------------------------------------
# Eligibility
# ---------------------------------------------------------------------------

#: Why a worker is or is not eligible, by ``Basis`` value (look a ``Basis`` up by its ``.value``).
BASIS_LABELS = {
    Basis.VACCINATED.value: _l("Fully vaccinated"),
    Basis.RECOVERED.value: _l("Recovered within 180 days"),
    Basis.NOT_VACCINATED.value: _l("Not vaccinated"),
    Basis.PARTIALLY_VACCINATED.value: _l("Not fully vaccinated"),
    Basis.WAITING_PERIOD.value: _l("Within 14 days of the last dose"),
    Basis.RECOVERY_EXPIRED.value: _l("Recovered more than 180 days ago"),
    Basis.TEST_REQUIRED.value: _l("Negative test required"),
    Basis.MISSING_DATA.value: _l("Vaccination data incomplete"),
    Basis.UNCONFIRMED.value: _l("Not confirmed by the health registry"),
    Basis.POSITIVE_HOLD.value: _l("On hold after a positive test"),
    Basis.OTHER.value: _l("Other reason"),
}
#: The bases on which a worker is eligible, and those on which not, in the order pages list them.
ELIGIBLE_BASES = (Basis.VACCINATED, Basis.RECOVERED)
INELIGIBLE_BASES = (Basis.NOT_VACCINATED, Basis.PARTIALLY_VACCINATED, Basis.WAITING_PERIOD,
                    Basis.RECOVERY_EXPIRED, Basis.TEST_REQUIRED, Basis.MISSING_DATA, Basis.UNCONFIRMED,
                    Basis.POSITIVE_HOLD, Basis.OTHER)

#: What in a worker's record blocks eligibility and HR can fix (the snapshot's ``issues``).
RECORD_ISSUE_LABELS = {
    "invalid_id": _l("Citizen ID no longer valid"),
    "dose_data": _l("Dose without date or vaccine"),
    "test_missing": _l("Negative test missing"),
    "test_outdated": _l("Negative test too old"),
    "missing_data": _l("Other missing data"),
}

# Checkpoint scan outcomes (their words, labels, instructions and colours) are defined once, where
# the checkpoint answers: portal/verify/outcomes.py.

# ---------------------------------------------------------------------------
# Health data against the registry
# ---------------------------------------------------------------------------

#: Where a dose, a recovery or a test stands against the health sector's registry.
PROVENANCE_LABELS = {
    Provenance.DECLARED.value: _l("Declared"),
    Provenance.CONFIRMED.value: _l("Confirmed"),
    Provenance.CONFLICTING.value: _l("Conflicting"),
    Provenance.NOT_FOUND.value: _l("Not found in the registry"),
}
#: What a registry extract holds.
HEALTH_EXTRACT_KIND_LABELS = {
    "vaccination": _l("Vaccination records"),
    "recovery": _l("Recoveries"),
    "test": _l("Test results"),
}
HEALTH_EXTRACT_STATUS_LABELS = {
    "checking": _l("Checking"),
    "ready": _l("Waiting for your confirmation"),
    "matching": _l("Matching"),
    "committed": _l("Matched"),
    "failed": _l("Failed: upload a corrected file"),
    "expired": _l("Expired"),
}
#: A fact's field the registry holds differently.
HEALTH_FIELD_LABELS = {
    "given_on": _l("Date of the dose"),
    "product": _l("Vaccine"),
    "recovered_on": _l("Recovery date"),
    "taken_on": _l("Test date"),
    "kind": _l("Kind of test"),
    "result": _l("Test result"),
    "missing": _l("Not declared"),
}

# ---------------------------------------------------------------------------
# Worker-list imports
# ---------------------------------------------------------------------------

IMPORT_STATUS_LABELS = {
    "checking": _l("Checking"),
    "ready": _l("Waiting for your confirmation"),
    "committing": _l("Importing"),
    "committed": _l("Imported"),
    "failed": _l("Failed"),
    "expired": _l("Expired"),
}
#: What the preview says will happen to a row.
IMPORT_ACTION_LABELS = {
    "create": _l("New"),
    "update": _l("Update"),
    "unchanged": _l("Unchanged"),
    "error": _l("Error"),
    "conflict": _l("Registered elsewhere"),
}


def label(labels: dict, code) -> str:
    """Return the label of ``code`` (a code or a str enum) in the current language; the code when unknown."""
    code = getattr(code, "value", code)
    found = labels.get(code)
    return str(found) if found is not None else str(code or "")
