from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, ValidationError

from portal.clock import parse_date
from portal.workers.identity import CitizenIdError, clean_citizen_id, validate_citizen_id


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
        try:
            field.birth_date = parse_date(field.data or "")
        except ValueError:
            raise ValidationError(_l("Enter your date of birth as dd/mm/yyyy, for example 17/05/1990.")) from None

    def validate_phone_last4(self, field) -> None:
        if not (field.data.isdigit() and len(field.data) == 4):
            raise ValidationError(_l("Enter exactly 4 digits: the end of the phone number your employer has."))
