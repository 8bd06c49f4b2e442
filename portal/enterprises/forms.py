"""Forms of enterprise registration, HR's edits and the officials' decisions."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, PasswordField, SelectField, StringField, TelField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, NumberRange, ValidationError
from wtforms.widgets import HiddenInput

from portal.auth.services import MIN_PASSWORD_LENGTH
from portal.enterprises.classification import (
    CLASSIFICATION_FIELDS,
    CONTACT_FIELDS,
    Classification,
    classification_refusals,
    normalise_tax_code,
)
from portal.enterprises.registration import Registration
from portal.i18n import localized
from portal.messages import Refusal
from portal.plugins.registry import UnitRegistry
from portal.security import digits_only
from portal.text import clean_text, normalise_phone

#: The unit choice of an enterprise outside every pilot unit: it is sent to the travel permit.
NOT_IN_PILOT = "none"
#: Separates a unit's code from a declaration's code in a select's value ("district7:logistics").
_SEP = ":"


def _clean(value):
    return clean_text(value) if isinstance(value, str) else value


def _longest(limit: int) -> Length:
    return Length(max=limit, message=_l("At most %(max)d characters."))


def _normalised_by(normalise):
    """Return a validator that replaces the field's data with ``normalise``'s result."""

    def validator(_form, field):
        try:
            field.data = normalise(field.data)
        except Refusal as refusal:
            raise ValidationError(str(refusal)) from None

    return validator


def _text(label, required: str, limit: int, **kwargs) -> StringField:
    return StringField(label, validators=[DataRequired(required), _longest(limit)], filters=[_clean], **kwargs)


def _email(label) -> EmailField:
    return EmailField(label, filters=[_clean], validators=[
        DataRequired(_l("Enter an email address.")), Email(_l("This is not a valid email address.")), _longest(254)])


class CountField(IntegerField):
    """A whole number typed as people write it (``1.200`` or ``1 200``), with a translated error."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = str(valuelist[0]).strip().replace(".", "").replace(" ", "").replace(",", "")
        self.data = int(text) if digits_only(text) else None
        if text and not digits_only(text):
            raise ValueError(_("Enter a whole number, e.g. 120."))


class ClassificationForm(FlaskForm):
    """The unit an enterprise belongs to and what that unit's plugin lets it declare."""

    unit = SelectField(_l("Pilot unit"), validate_choice=False,
                       validators=[InputRequired(_l("Choose the pilot unit your enterprise belongs to."))])
    business_type = SelectField(_l("Business type"), validate_choice=False,
                                validators=[InputRequired(_l("Choose a business type."))])
    sector = SelectField(_l("Sector"), validate_choice=False, validators=[InputRequired(_l("Choose a sector."))])
    location = SelectField(_l("Zone or park"), validate_choice=False)

    def fill_choices(self, registry: UnitRegistry, *, allow_not_in_pilot: bool = False) -> None:
        """Offer the installed units, and each unit's declarations grouped under its name."""
        self._registry = registry
        units = [SelectChoice("", _("— Choose your unit —"))]
        units += [SelectChoice(code, localized(unit)) for code, unit in registry.units.items()]
        if allow_not_in_pilot:
            units.append(SelectChoice(NOT_IN_PILOT, _("My enterprise is not in any pilot unit")))
        self.unit.choices = units
        self.business_type.choices = _grouped(registry, registry.business_types, _("— Choose —"))
        self.sector.choices = _grouped(registry, registry.sectors, _("— Choose —"))
        self.location.choices = _grouped(registry, registry.locations, _("— Not in a listed zone or park —"))

    def show(self, classification: Classification) -> None:
        """Select ``classification``'s values (for a GET)."""
        unit = classification.unit
        self.unit.data = unit
        self.business_type.data = f"{unit}{_SEP}{classification.business_type}"
        self.sector.data = f"{unit}{_SEP}{classification.sector}"
        self.location.data = f"{unit}{_SEP}{classification.location}" if classification.location else ""

    def classification(self) -> Classification:
        """Return what was chosen; a value from another unit's group stays foreign, so it is refused."""
        unit = self.unit.data or ""
        return Classification(unit, _own(unit, self.business_type.data), _own(unit, self.sector.data),
                              _own(unit, self.location.data) or None)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.unit is not None and self.unit.data and self.unit.data != NOT_IN_PILOT:
            refusals = classification_refusals(self._registry, self.classification())
            for refusal in refusals:
                field = getattr(self, refusal.field)
                if not field.errors:
                    field.errors.append(str(refusal))
            valid = valid and not refusals
        return valid


def _grouped(registry: UnitRegistry, declarations: dict, placeholder: str) -> list[SelectChoice]:
    choices = [SelectChoice("", placeholder)]
    for unit_code, items in declarations.items():
        group = localized(registry.units[unit_code])
        choices += [SelectChoice(f"{unit_code}{_SEP}{code}", localized(item), optgroup=group)
                    for code, item in items.items()]
    return choices


def _own(unit: str, value: str | None) -> str:
    """Return the declaration code of ``value`` when it belongs to ``unit``; else the value unchanged."""
    value = value or ""
    prefix = f"{unit}{_SEP}"
    return value[len(prefix):] if value.startswith(prefix) else value


class ContactFields:
    """The contact details HR may change at any time."""

    address = _text(_l("Address (number, street)"), _l("Enter the enterprise's address."), 300)
    ward = _text(_l("Ward or commune"), _l("Enter the ward or commune."), 100)
    district = _text(_l("District"), _l("Enter the district."), 100)
    headcount = CountField(_l("Number of employees"), validators=[
        InputRequired(_l("Enter how many people the enterprise employs.")),
        NumberRange(min=1, max=1_000_000, message=_l("Enter a number between %(min)s and %(max)s."))])
    contact_name = _text(_l("Contact person"), _l("Enter the name of the person to contact."), 200)
    phone = TelField(_l("Phone"), filters=[_clean], validators=[
        DataRequired(_l("Enter a phone number.")), _normalised_by(normalise_phone)])
    email = _email(_l("Contact email"))


class RegistrationForm(ContactFields, ClassificationForm):
    full_name = _text(_l("Your full name"), _l("Enter your full name."), 200)
    account_email = _email(_l("Your email (to sign in)"))
    password = PasswordField(_l("Password"), validators=[
        DataRequired(_l("Choose a password.")),
        Length(min=MIN_PASSWORD_LENGTH, max=200, message=_l("The password needs %(min)d to %(max)d characters."))])
    confirm = PasswordField(_l("Password again"), validators=[
        DataRequired(_l("Type the password again.")),
        EqualTo("password", message=_l("The two passwords are not the same."))])
    name = _text(_l("Enterprise name"), _l("Enter the enterprise's name as registered."), 300)
    tax_code = StringField(_l("Tax code (MST)"), filters=[_clean], validators=[
        DataRequired(_l("Enter the tax code.")), _normalised_by(normalise_tax_code)])

    def registration(self) -> Registration:
        return Registration(
            full_name=self.full_name.data, account_email=self.account_email.data, password=self.password.data,
            name=self.name.data, tax_code=self.tax_code.data, address=self.address.data, ward=self.ward.data,
            district=self.district.data, classification=self.classification(), headcount=self.headcount.data,
            contact_name=self.contact_name.data, phone=self.phone.data, email=self.email.data,
        )


class EnterpriseEditForm(ContactFields, ClassificationForm):
    version = CountField(widget=HiddenInput(), validators=[InputRequired()])

    def contact(self) -> dict:
        return {name: getattr(self, name).data for name in CONTACT_FIELDS}

    def drop_classification(self) -> None:
        """Remove the fields HR may no longer change (they are then None and neither shown nor read)."""
        for name in CLASSIFICATION_FIELDS:
            delattr(self, name)


class DecisionForm(FlaskForm):
    action = StringField(validators=[InputRequired()])
    reason = TextAreaField(_l("Reason"), filters=[_clean], validators=[_longest(2000)])
    version = CountField(widget=HiddenInput(), validators=[InputRequired()])
