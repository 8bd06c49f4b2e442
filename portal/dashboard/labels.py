"""What the dashboard calls each status, basis, outcome and record issue, in the user's language."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.plugins.types import Basis
from portal.verify import outcomes as verify_outcomes

ENTERPRISE_STATUSES = ("approved", "pending", "suspended", "rejected")
ENTERPRISE_STATUS_LABELS = {
    "approved": _l("Approved"), "pending": _l("Pending"), "suspended": _l("Suspended"), "rejected": _l("Rejected"),
}

#: Reasons a worker is not eligible, in the order the dashboard lists them.
INELIGIBLE_BASES = (Basis.NOT_VACCINATED, Basis.PARTIALLY_VACCINATED, Basis.WAITING_PERIOD,
                    Basis.RECOVERY_EXPIRED, Basis.TEST_REQUIRED, Basis.MISSING_DATA, Basis.OTHER)
ELIGIBLE_BASES = (Basis.VACCINATED, Basis.RECOVERED)
BASIS_LABELS = {
    Basis.VACCINATED: _l("Fully vaccinated"),
    Basis.RECOVERED: _l("Recovered within 180 days"),
    Basis.NOT_VACCINATED: _l("Not vaccinated"),
    Basis.PARTIALLY_VACCINATED: _l("Partially vaccinated (one dose)"),
    Basis.WAITING_PERIOD: _l("Under 14 days since the last dose"),
    Basis.RECOVERY_EXPIRED: _l("Recovered more than 180 days ago"),
    Basis.TEST_REQUIRED: _l("Negative test required"),
    Basis.MISSING_DATA: _l("Missing data"),
    Basis.OTHER: _l("Other reason"),
}

#: Pass states at one instant, in the order the dashboard lists them.
PASS_STATES = ("valid", "upcoming", "expired", "revoked")
PASS_STATE_LABELS = {
    "issued": _l("Issued"), "valid": _l("Valid now"), "upcoming": _l("Not yet valid"), "expired": _l("Expired"),
    "revoked": _l("Revoked"), "superseded": _l("Superseded versions"),
}
#: What happened to passes during a report's period.
PASS_FLOWS = ("issued", "revoked", "expired")
PASS_FLOW_LABELS = {
    "issued": _l("Issued in the period"), "revoked": _l("Revoked in the period"),
    "expired": _l("Expired in the period"),
}

#: Checkpoint scan outcomes and their labels: the one definition in portal/verify/outcomes.py.
OUTCOMES = verify_outcomes.OUTCOME_CODES
OUTCOME_LABELS = {item.code: item.label for item in verify_outcomes.OUTCOMES}

ISSUE_LABELS = {
    "invalid_id": _l("Citizen ID no longer valid"),
    "dose_data": _l("Dose without date or vaccine"),
    "test_missing": _l("Negative test missing"),
    "test_outdated": _l("Negative test too old"),
    "missing_data": _l("Other missing data"),
}


def basis_label(code: str) -> str:
    """Return the label of a basis code, or the code itself when no label knows it."""
    try:
        return str(BASIS_LABELS[Basis(code)])
    except ValueError:
        return code
