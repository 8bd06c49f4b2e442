"""Enterprise onboarding, HR's own edits, the officials' queue and their decisions.

Every function that changes data runs one transaction and commits it: a refusal rolls back and
raises an :class:`EnterpriseError` whose messages are translated, keyed by form field.
"""
from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import phonenumbers
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError
from stdnum.vn import mst

from portal import events
from portal.audit.services import record
from portal.auth.access import can_decide_enterprise, enterprise_filter
from portal.auth.models import Role, User
from portal.auth.services import AccountError, create_user, normalise_email
from portal.clock import utcnow
from portal.enterprises.models import Enterprise, EnterpriseStatus
from portal.plugins.registry import UnitRegistry, fold
from portal.plugins.types import Basis, EnterpriseFacts
from portal.units.models import PilotUnit
from portal.units.services import unit_row
from portal.workers.facts import evaluate
from portal.workers.models import Worker

log = logging.getLogger(__name__)

PENDING, APPROVED, REJECTED, SUSPENDED = (status.value for status in EnterpriseStatus)

STATUS_LABELS = {
    PENDING: _l("Pending"),
    APPROVED: _l("Approved"),
    REJECTED: _l("Rejected"),
    SUSPENDED: _l("Suspended"),
}

BASIS_LABELS = {
    Basis.VACCINATED: _l("Fully vaccinated"),
    Basis.RECOVERED: _l("Recovered from COVID-19"),
    Basis.NOT_VACCINATED: _l("Not vaccinated"),
    Basis.PARTIALLY_VACCINATED: _l("Not fully vaccinated"),
    Basis.WAITING_PERIOD: _l("Within 14 days of the last dose"),
    Basis.RECOVERY_EXPIRED: _l("Recovered more than 180 days ago"),
    Basis.TEST_REQUIRED: _l("Negative test required"),
    Basis.MISSING_DATA: _l("Vaccination data incomplete"),
    Basis.OTHER: _l("Other reason"),
}

#: Fields HR may change at any time.
CONTACT_FIELDS = ("contact_name", "phone", "email", "headcount", "address", "ward", "district")
#: Fields HR may change only while the enterprise is pending or rejected.
CLASSIFICATION_FIELDS = ("unit", "business_type", "sector", "location")
RECLASSIFIABLE = frozenset({PENDING, REJECTED})


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


class EnterpriseError(Exception):
    """A refusal with translated messages keyed by form field ("" for the whole form)."""

    def __init__(self, message=None, *, field: str = "", errors: dict | None = None):
        self.errors = dict(errors) if errors else {field: message}
        # Lazy messages stay lazy: they are translated where they are shown, in the user's language.
        super().__init__(next(iter(self.errors.values())))

    @property
    def message(self):
        return next(iter(self.errors.values()))


class InvalidValue(EnterpriseError):
    """Raised when a typed value (tax code, phone) cannot be used."""


class RegistrationError(EnterpriseError):
    """Raised when a registration cannot be accepted; nothing was created."""


class EditError(EnterpriseError):
    """Raised when HR's change cannot be saved; nothing was changed."""


class DecisionError(EnterpriseError):
    """Raised when an official's decision cannot be recorded; nothing was changed."""


class ConflictError(DecisionError, EditError):
    """Raised when someone else changed the enterprise since the form was shown."""


# ---------------------------------------------------------------------------
# Typed values
# ---------------------------------------------------------------------------


def clean_text(value: str | None) -> str:
    """Return ``value`` in NFC, trimmed, with runs of whitespace made one space."""
    if value is None:
        return ""
    return " ".join(unicodedata.normalize("NFC", str(value)).split())


def normalise_tax_code(text: str | None) -> str:
    """Return a valid tax code (MST) in compact form, 10 or 13 digits; raise InvalidValue."""
    try:
        return mst.validate(clean_text(text))
    except InvalidLength:
        raise InvalidValue(_l("A tax code has 10 digits, or 13 for a branch (e.g. 0312345678-001).")) from None
    except InvalidFormat:
        raise InvalidValue(_l("A tax code has only digits (spaces and dashes are allowed).")) from None
    except InvalidChecksum:
        raise InvalidValue(_l("This tax code's check digit is wrong: compare it with your business "
                              "registration certificate.")) from None
    except ValidationError:
        raise InvalidValue(_l("This is not a valid tax code.")) from None


def format_tax_code(tax_code: str | None) -> str:
    """Show a stored tax code the usual way (a branch's last three digits after a dash)."""
    if tax_code and len(tax_code) == 13 and tax_code.isdigit():
        return mst.format(tax_code)
    return tax_code or ""


_PHONE_TYPES = frozenset({
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
})


def normalise_phone(text: str | None) -> str:
    """Return a Vietnamese mobile or landline number in national form (0xxxxxxxxx); raise InvalidValue."""
    message = _l("Enter a Vietnamese mobile or landline number, e.g. 0909 123 456 or 028 3775 0000.")
    try:
        number = phonenumbers.parse(clean_text(text), "VN")
    except phonenumbers.NumberParseException:
        raise InvalidValue(message) from None
    valid = phonenumbers.is_valid_number_for_region(number, "VN")
    if not valid or phonenumbers.number_type(number) not in _PHONE_TYPES:
        raise InvalidValue(message)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return "".join(c for c in national if c.isdigit())


# ---------------------------------------------------------------------------
# What a unit declares
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Classification:
    """Where an enterprise belongs: its unit and what that unit's plugin lets it declare."""

    unit: str
    business_type: str
    sector: str
    location: str | None = None


def classification_errors(registry: UnitRegistry, wanted: Classification) -> dict:
    """Return a message per field whose value the chosen unit does not declare (empty when all fit)."""
    if wanted.unit not in registry.units:
        return {"unit": _l("Choose the pilot unit your enterprise belongs to.")}
    errors = {}
    if wanted.business_type not in registry.business_types[wanted.unit]:
        errors["business_type"] = _l("Choose a business type from your pilot unit's list.")
    if wanted.sector not in registry.sectors[wanted.unit]:
        errors["sector"] = _l("Choose a sector from your pilot unit's list.")
    locations = registry.locations[wanted.unit]
    if locations and wanted.location not in locations:
        errors["location"] = _l("Your pilot unit admits only enterprises inside one of its zones or parks: "
                                "choose yours.")
    return errors


def _fitted(registry: UnitRegistry, wanted: Classification) -> Classification:
    """Drop a location the unit does not ask for."""
    if wanted.unit in registry.units and not registry.locations[wanted.unit]:
        return Classification(wanted.unit, wanted.business_type, wanted.sector, None)
    return wanted


def classification_of(enterprise: Enterprise) -> Classification:
    return Classification(enterprise.unit.code, enterprise.business_type, enterprise.sector, enterprise.location)


def enterprise_facts(enterprise: Enterprise) -> EnterpriseFacts:
    """Return what the unit's admission rule may know about ``enterprise``."""
    return EnterpriseFacts(tax_code=enterprise.tax_code, business_type=enterprise.business_type,
                           sector=enterprise.sector, location=enterprise.location, ward=enterprise.ward,
                           district=enterprise.district)


def declared_label(registry: UnitRegistry, kind: str, unit_code: str, code: str | None) -> object | None:
    """Return the declaration (business type, sector or location) ``code`` of a unit, or None."""
    if not code:
        return None
    return getattr(registry, kind).get(unit_code, {}).get(code)


# ---------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    """An HR account and the enterprise it registers, as typed (already cleaned by the form)."""

    full_name: str
    account_email: str
    password: str
    name: str
    tax_code: str
    address: str
    ward: str
    district: str
    classification: Classification
    headcount: int
    contact_name: str
    phone: str
    email: str


def _taken(session: Session, tax_code: str, account_email: str) -> dict:
    errors = {}
    if session.scalar(select(func.count()).select_from(Enterprise).where(Enterprise.tax_code == tax_code)):
        errors["tax_code"] = _l("An enterprise with this tax code is already registered. If it is yours, "
                                "ask your colleague who registered it, or your unit's officials.")
    if session.scalar(select(func.count()).select_from(User).where(User.email == normalise_email(account_email))):
        errors["account_email"] = _l("An account with this email already exists: sign in instead, "
                                     "or use another email.")
    return errors


def register(session: Session, registry: UnitRegistry, wanted: Registration) -> User:
    """Create the pending enterprise, its HR account and an audit event in one transaction; return the user."""
    errors = _taken(session, wanted.tax_code, wanted.account_email)
    errors.update(classification_errors(registry, wanted.classification))
    if errors:
        raise RegistrationError(errors=errors)
    classification = _fitted(registry, wanted.classification)
    try:
        enterprise = Enterprise(
            name=wanted.name, tax_code=wanted.tax_code, address=wanted.address, ward=wanted.ward,
            district=wanted.district, unit=unit_row(session, registry, classification.unit),
            business_type=classification.business_type, sector=classification.sector,
            location=classification.location, headcount=wanted.headcount, contact_name=wanted.contact_name,
            phone=wanted.phone, email=normalise_email(wanted.email), status=PENDING,
        )
        session.add(enterprise)
        session.flush()
        user = create_user(session, email=wanted.account_email, password=wanted.password,
                           full_name=wanted.full_name, role=Role.HR, enterprise=enterprise, email_confirmed=False)
        record(session, user, "enterprise.registered", enterprise, after=_snapshot(enterprise),
               enterprise_id=enterprise.id, unit_id=enterprise.unit_id)
        session.commit()
    except (IntegrityError, AccountError):
        # Someone registered the same tax code or email between our check and our insert.
        session.rollback()
        raise RegistrationError(errors=_taken(session, wanted.tax_code, wanted.account_email) or {
            "": _l("Your registration could not be saved. Please try again.")}) from None
    return user


def _snapshot(enterprise: Enterprise) -> dict:
    state = {"status": enterprise.status, "unit": enterprise.unit.code, "business_type": enterprise.business_type,
             "sector": enterprise.sector, "location": enterprise.location}
    return {name: value for name, value in state.items() if value is not None}


# ---------------------------------------------------------------------------
# HR's edits
# ---------------------------------------------------------------------------


def can_reclassify(enterprise: Enterprise) -> bool:
    """Say whether HR may still change the enterprise's unit, business type, sector or location."""
    return enterprise.status in RECLASSIFIABLE


def _locked(session: Session, enterprise_id: int) -> Enterprise | None:
    """Return the enterprise's current row, locked until the commit (PostgreSQL; SQLite locks the database)."""
    return session.scalar(
        select(Enterprise).where(Enterprise.id == enterprise_id).with_for_update()
        .execution_options(populate_existing=True)
    )


def update_enterprise(session: Session, registry: UnitRegistry, enterprise_id: int, actor: User, *,
                      contact: dict, classification: Classification | None, expected_version: int) -> list[str]:
    """Save HR's changes with an audit event; a rejected enterprise goes back to pending.

    Return the names of the fields that changed (empty: nothing to save).
    """
    try:
        changed = _apply_edit(session, registry, enterprise_id, actor, contact, classification, expected_version)
        session.commit()
    except StaleDataError:
        session.rollback()
        raise ConflictError(_edit_conflict()) from None
    except BaseException:
        session.rollback()
        raise
    return changed


def _edit_conflict():
    return _l("Your enterprise was changed by someone else while you were editing (for example, your unit "
              "decided on it). Here is its current state: check it and save again.")


def _apply_edit(session, registry, enterprise_id, actor, contact, classification, expected_version) -> list[str]:
    enterprise = _locked(session, enterprise_id)
    if enterprise is None or not (actor.is_hr and actor.enterprise_id == enterprise.id):
        raise EditError(_l("You may change only your own enterprise."))
    if enterprise.version != expected_version:
        raise ConflictError(_edit_conflict())
    if "email" in contact:
        contact = {**contact, "email": normalise_email(contact["email"] or "")}
    before, after = {}, {}
    for name in CONTACT_FIELDS:
        if name in contact and getattr(enterprise, name) != contact[name]:
            before[name], after[name] = getattr(enterprise, name), contact[name]
            setattr(enterprise, name, contact[name])
    if classification is not None:
        _reclassify(session, registry, enterprise, _fitted(registry, classification), before, after)
    if not after:
        return []
    resubmitted = enterprise.status == REJECTED
    if resubmitted:
        _set_status(session, enterprise, actor, PENDING, None, before, after)
    record(session, actor, "enterprise.resubmitted" if resubmitted else "enterprise.updated", enterprise,
           before=before, after=after, enterprise_id=enterprise.id, unit_id=enterprise.unit_id)
    session.flush()
    return [name for name in after if name != "status"]


def _reclassify(session, registry, enterprise, wanted: Classification, before: dict, after: dict) -> None:
    current = classification_of(enterprise)
    if wanted == current:
        return
    if not can_reclassify(enterprise):
        raise EditError(_l("Your unit has already decided on your enterprise: its unit, business type, sector "
                           "and location can no longer be changed. Ask your unit's officials."), field="unit")
    errors = classification_errors(registry, wanted)
    if errors:
        raise EditError(errors=errors)
    for name in CLASSIFICATION_FIELDS:
        old, new = getattr(current, name), getattr(wanted, name)
        if old != new:
            before[name], after[name] = old, new
    enterprise.unit = unit_row(session, registry, wanted.unit)
    enterprise.business_type, enterprise.sector, enterprise.location = (
        wanted.business_type, wanted.sector, wanted.location)


def _set_status(session, enterprise, actor, status: str, reason: str | None, before: dict, after: dict) -> None:
    """Change the status and tell the other features inside this transaction."""
    previous = enterprise.status
    before["status"], after["status"] = previous, status
    enterprise.status, enterprise.status_reason, enterprise.status_changed_at = status, reason, utcnow()
    events.enterprise_status_changed.send(enterprise, session=session, actor=actor, before=previous,
                                          after=status, reason=reason)


# ---------------------------------------------------------------------------
# Officials' decisions
# ---------------------------------------------------------------------------

#: action → (the statuses it may be taken from, the status it leads to, the audit action)
ACTIONS = {
    "approve": (frozenset({PENDING, REJECTED}), APPROVED, "enterprise.approved"),
    "reject": (frozenset({PENDING}), REJECTED, "enterprise.rejected"),
    "suspend": (frozenset({APPROVED}), SUSPENDED, "enterprise.suspended"),
    "reinstate": (frozenset({SUSPENDED}), APPROVED, "enterprise.reinstated"),
}
REASON_REQUIRED = frozenset({"reject", "suspend"})


def allowed_actions(enterprise: Enterprise) -> list[str]:
    """Return the decisions possible from the enterprise's current status, in display order."""
    return [action for action, (sources, _target, _event) in ACTIONS.items() if enterprise.status in sources]


@dataclass(frozen=True)
class Decision:
    enterprise_id: int
    action: str
    before: str
    after: str


def decide(session: Session, registry: UnitRegistry, enterprise_id: int, action: str, actor: User,
           reason: str | None, expected_version: int) -> Decision:
    """Record an official's decision, asking the unit's plugin before an approval; commit it.

    The enterprise row (and, for an approval, its unit's row) is locked, so that two officials
    end in one state and the unit's count of approved enterprises is exact. ``expected_version``
    is the version the official saw: anything else means someone decided first.
    """
    try:
        enterprise, decision = _decide(session, registry, enterprise_id, action, actor,
                                       clean_text(reason) or None, expected_version)
        facts, unit_code = enterprise_facts(enterprise), enterprise.unit.code
        session.commit()
    except StaleDataError:
        session.rollback()
        raise ConflictError(_l("Someone else decided on this enterprise first. Its current state is shown "
                               "below; nothing was changed.")) from None
    except BaseException:
        session.rollback()
        raise
    if decision.after == APPROVED:
        _tell_unit_approved(registry, unit_code, facts)
    return decision


def _decide(session, registry, enterprise_id, action, actor, reason, expected_version):
    if action not in ACTIONS:
        raise DecisionError(_l("Choose approve, reject, suspend or reinstate."), field="action")
    enterprise = _locked(session, enterprise_id)
    if enterprise is None or not can_decide_enterprise(actor, enterprise):
        raise DecisionError(_l("You may not decide on this enterprise."))
    if enterprise.version != expected_version:
        raise ConflictError(_l("Someone else decided on this enterprise first: it is now %(status)s. "
                               "Its current state is shown below; nothing was changed.",
                               status=STATUS_LABELS[enterprise.status]))
    sources, target, event = ACTIONS[action]
    if enterprise.status not in sources:
        raise DecisionError(_l("This decision is not possible while the enterprise is %(status)s.",
                               status=STATUS_LABELS[enterprise.status]), field="action")
    if action in REASON_REQUIRED and not reason:
        raise DecisionError(_l("Give the reason: the enterprise's HR staff will read it."), field="reason")
    if target == APPROVED:
        _admit(session, registry, enterprise)
    before, after = {}, {}
    _set_status(session, enterprise, actor, target, reason, before, after)
    record(session, actor, event, enterprise, reason=reason, before=before, after=after,
           enterprise_id=enterprise.id, unit_id=enterprise.unit_id)
    session.flush()
    return enterprise, Decision(enterprise.id, action, before["status"], target)


def _admit(session: Session, registry: UnitRegistry, enterprise: Enterprise) -> None:
    """Ask the unit's plugin, counting its other approved enterprises under the unit's lock."""
    # Approvals of one unit queue here, so the count cannot change before our commit.
    session.execute(select(PilotUnit.id).where(PilotUnit.id == enterprise.unit_id).with_for_update())
    approved_count = session.scalar(
        select(func.count()).select_from(Enterprise)
        .where(Enterprise.unit_id == enterprise.unit_id, Enterprise.status == APPROVED, Enterprise.id != enterprise.id)
    )
    admission = registry.admit(enterprise.unit.code, enterprise_facts(enterprise), approved_count)
    if not admission.admitted:
        # A plugin's reason is usually a lazy string: testing its truth would translate it here, too early.
        reason = admission.reason
        if isinstance(reason, str) and not reason.strip():
            reason = _l("The unit's rules do not admit this enterprise.")
        raise DecisionError(reason)


def _tell_unit_approved(registry: UnitRegistry, unit_code: str, facts: EnterpriseFacts) -> None:
    try:
        registry.notify(unit_code, "portal_enterprise_approved", enterprise=facts)
    except Exception:
        # The approval is committed; a plugin's listener failing must not undo it or show an error.
        log.exception("portal_enterprise_approved failed for %s in unit %s", facts.tax_code, unit_code)


# ---------------------------------------------------------------------------
# What officials and HR see
# ---------------------------------------------------------------------------


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
class WorkerSummary:
    """An enterprise's active workers, how many are eligible on a day, and why the others are not."""

    active: int
    eligible: int
    reasons: list[tuple[Basis, int]] = field(default_factory=list)  # most frequent first


def worker_summary(session: Session, registry: UnitRegistry, enterprise: Enterprise, on_date: date) -> WorkerSummary:
    """Ask the unit's rules about every active worker of ``enterprise`` on ``on_date``."""
    workers = session.scalars(
        select(Worker).where(Worker.enterprise_id == enterprise.id, Worker.active.is_(True))
        .options(selectinload(Worker.doses))
    ).all()
    refused: Counter = Counter()
    eligible = 0
    for worker in workers:
        answer = evaluate(registry, worker, on_date)
        if answer.eligible:
            eligible += 1
        else:
            refused[Basis(answer.basis)] += 1
    return WorkerSummary(active=len(workers), eligible=eligible, reasons=refused.most_common())


@dataclass(frozen=True)
class QueueFilters:
    """What an official asked the queue for; ``status`` "all" shows every status."""

    status: str = PENDING
    sector: str = ""
    search: str = ""
    unit: str = ""
    page: int = 1


@dataclass
class Queue:
    page: object  # flask_sqlalchemy Pagination of Enterprise
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
    from portal.extensions import db

    scope = [enterprise_filter(user, Enterprise)]
    if filters.unit:
        scope.append(Enterprise.unit_id == select(PilotUnit.id).where(PilotUnit.code == filters.unit).scalar_subquery())
    approved_by_unit = dict(session.execute(
        select(PilotUnit.code, func.count(Enterprise.id)).join(Enterprise, Enterprise.unit_id == PilotUnit.id)
        .where(*scope, Enterprise.status == APPROVED).group_by(PilotUnit.code)
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
    if filters.status in STATUS_LABELS:
        statement = statement.where(Enterprise.status == filters.status)
    # The oldest application first: it has waited longest.
    statement = statement.order_by(Enterprise.created_at, Enterprise.id)
    page = db.paginate(statement, page=max(filters.page, 1), per_page=per_page, error_out=False)
    counts = active_worker_counts(session, [enterprise.id for enterprise in page.items])
    return Queue(page=page, worker_counts=counts, status_counts=status_counts, approved_by_unit=approved_by_unit)
