"""Where an enterprise belongs (its unit, business type, sector, zone) and what its unit's rules see of it.

Also the typed values of an enterprise: its tax code (MST).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError
from stdnum.vn import mst

from portal.enterprises.models import Enterprise
from portal.messages import Refusal
from portal.plugins.registry import UnitRegistry
from portal.plugins.types import EnterpriseFacts
from portal.text import clean_text

#: Fields HR may change at any time.
CONTACT_FIELDS = ("contact_name", "phone", "email", "headcount", "address", "ward", "district")
#: Fields HR may change only while the enterprise is pending or rejected.
CLASSIFICATION_FIELDS = ("unit", "business_type", "sector", "location")


# ---------------------------------------------------------------------------
# The tax code
# ---------------------------------------------------------------------------

def normalise_tax_code(text: str | None, *, field: str = "tax_code") -> str:
    """Return a valid tax code (MST) in compact form, 10 or 13 digits; raise Refusal."""
    try:
        return mst.validate(clean_text(text))
    except InvalidLength:
        message = _l("A tax code has 10 digits, or 13 for a branch (e.g. 0312345678-001).")
    except InvalidFormat:
        message = _l("A tax code has only digits (spaces and dashes are allowed).")
    except InvalidChecksum:
        message = _l("This tax code's check digit is wrong: compare it with your business registration "
                     "certificate.")
    except ValidationError:
        message = _l("This is not a valid tax code.")
    raise Refusal(message, field=field)


def format_tax_code(tax_code: str | None) -> str:
    """Show a stored tax code the usual way (a branch's last three digits after a dash)."""
    if tax_code and len(tax_code) == 13 and tax_code.isdigit():
        return mst.format(tax_code)
    return tax_code or ""


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


def classification_refusals(registry: UnitRegistry, wanted: Classification) -> list[Refusal]:
    """Return a refusal per field whose value the chosen unit does not declare (empty when all fit)."""
    if wanted.unit not in registry.units:
        return [Refusal(_l("Choose the pilot unit your enterprise belongs to."), field="unit")]
    found = []
    if wanted.business_type not in registry.business_types[wanted.unit]:
        found.append(Refusal(_l("Choose a business type from your pilot unit's list."), field="business_type"))
    if wanted.sector not in registry.sectors[wanted.unit]:
        found.append(Refusal(_l("Choose a sector from your pilot unit's list."), field="sector"))
    locations = registry.locations[wanted.unit]
    if locations and wanted.location not in locations:
        found.append(Refusal(_l("Your pilot unit admits only enterprises inside one of its zones or parks: "
                                "choose yours."), field="location"))
    return found


def fitted(registry: UnitRegistry, wanted: Classification) -> Classification:
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
