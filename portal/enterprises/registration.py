"""An enterprise registers itself with its first HR account; the unit's officials decide later."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.audit.services import record
from portal.auth.models import Role, User
from portal.auth.services import create_user, normalise_email
from portal.enterprises.classification import Classification, classification_refusals, fitted
from portal.enterprises.models import Enterprise, EnterpriseStatus
from portal.messages import Refusal
from portal.plugins.registry import UnitRegistry
from portal.units.services import unit_row

TAX_CODE_TAKEN = _l("An enterprise with this tax code is already registered. If it is yours, ask your colleague "
                    "who registered it, or your unit's officials.")
EMAIL_TAKEN = _l("An account with this email already exists: sign in instead, or use another email.")


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


def register(session: Session, registry: UnitRegistry, wanted: Registration) -> User:
    """Add the pending enterprise, its HR account and an audit event (not committed); return the user.

    Raise Refusal (with every problem found) when the tax code or the email is taken or the
    classification does not fit the unit; nothing is added then.
    """
    refusal = Refusal.of([*_taken(session, wanted.tax_code, wanted.account_email),
                          *classification_refusals(registry, wanted.classification)])
    if refusal:
        raise refusal
    classification = fitted(registry, wanted.classification)
    try:
        with session.begin_nested():
            enterprise = Enterprise(
                name=wanted.name, tax_code=wanted.tax_code, address=wanted.address, ward=wanted.ward,
                district=wanted.district, unit=unit_row(session, registry, classification.unit),
                business_type=classification.business_type, sector=classification.sector,
                location=classification.location, headcount=wanted.headcount, contact_name=wanted.contact_name,
                phone=wanted.phone, email=normalise_email(wanted.email), status=EnterpriseStatus.PENDING.value,
            )
            session.add(enterprise)
            session.flush()
            # A self-registered account confirms its address before anything else (a mailed link).
            user = create_user(session, email=wanted.account_email, password=wanted.password,
                               full_name=wanted.full_name, role=Role.HR, enterprise=enterprise, email_confirmed=False)
    except (IntegrityError, Refusal):
        # Someone registered the same tax code or email between our check and our insert.
        raise Refusal.of(_taken(session, wanted.tax_code, wanted.account_email)) or Refusal(
            _l("Your registration could not be saved. Please try again.")) from None
    record(session, user, "enterprise.registered", enterprise, after=snapshot(enterprise),
           enterprise_id=enterprise.id, unit_id=enterprise.unit_id)
    return user


def _taken(session: Session, tax_code: str, account_email: str) -> list[Refusal]:
    found = []
    if session.scalar(select(func.count()).select_from(Enterprise).where(Enterprise.tax_code == tax_code)):
        found.append(Refusal(TAX_CODE_TAKEN, field="tax_code"))
    if session.scalar(select(func.count()).select_from(User).where(User.email == normalise_email(account_email))):
        found.append(Refusal(EMAIL_TAKEN, field="account_email"))
    return found


def snapshot(enterprise: Enterprise) -> dict:
    """Return the enterprise's classification and status as the audit trail keeps them."""
    state = {"status": enterprise.status, "unit": enterprise.unit.code, "business_type": enterprise.business_type,
             "sector": enterprise.sector, "location": enterprise.location}
    return {name: value for name, value in state.items() if value is not None}
