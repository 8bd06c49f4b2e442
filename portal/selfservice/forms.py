import re
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, ValidationError

from portal.clock import local_today
from portal.workers.identity import CitizenIdError, clean_citizen_id, validate_citizen_id

#: dd/mm/yyyy with "/", "." or "-" (one or two digits for day and month), or eight digits ddmmyyyy.
_SEPARATED = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})")
_DIGITS = re.compile(r"(\d{2})(\d{2})(\d{4})")
FORMAT_HELP = _l("Enter your date of birth as dd/mm/yyyy, for example 17/05/1990.")


def parse_birth_date(text: str) -> date:
    """Return the date typed as dd/mm/yyyy, dd.mm.yyyy, dd-mm-yyyy or ddmmyyyy; raise ValidationError otherwise."""
    text = (text or "").strip()
    match = _SEPARATED.fullmatch(text) or _DIGITS.fullmatch(text)
    if match is None:
        raise ValidationError(FORMAT_HELP)
    day, month, year = (int(part) for part in match.groups())
    try:
        born = date(year, month, day)
    except ValueError:
        raise ValidationError(_l("The date %(day)02d/%(month)02d/%(year)04d does not exist: check the day and the "
                                 "month.", day=day, month=month, year=year)) from None
    if born > local_today() or year < 1900:
        raise ValidationError(_l("%(date)s cannot be a date of birth: check the year.",
                                 date=born.strftime("%d/%m/%Y")))
    return born


class LookupForm(FlaskForm):
    """What a worker types to get their own card: citizen ID, date of birth, last four phone digits.

    Each check here is about the shape of what was typed, never about whether such a worker exists.
    """

    citizen_id = StringField(_l("Citizen ID number (CCCD/CMND)"), validators=[InputRequired()],
                             filters=[clean_citizen_id])
    date_of_birth = StringField(_l("Date of birth (dd/mm/yyyy)"), validators=[InputRequired()])
    phone_last4 = StringField(_l("Last 4 digits of your phone number"), validators=[InputRequired()],
                              filters=[lambda value: (value or "").strip()])

    def validate_citizen_id(self, field) -> None:
        try:
            validate_citizen_id(field.data)
        except CitizenIdError as error:
            raise ValidationError(str(error)) from None

    def validate_date_of_birth(self, field) -> None:
        field.birth_date = parse_birth_date(field.data)

    def validate_phone_last4(self, field) -> None:
        if not (field.data.isdigit() and len(field.data) == 4):
            raise ValidationError(_l("Enter exactly 4 digits: the end of the phone number your employer has."))
