from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

from portal.vocabulary import REVOCATION_ALIASES, REVOCATION_CHOICES, REVOCATION_REASONS


class RevokeForm(FlaskForm):
    """Why a green card is revoked: a reason from the list, and details (required for "other")."""

    # A page loaded before the list changed may still send an old code: it is stored as its successor.
    reason = SelectField(_l("Reason"), validators=[InputRequired()],
                         filters=[lambda code: REVOCATION_ALIASES.get(code, code)],
                         choices=[SelectChoice(code, REVOCATION_REASONS[code]) for code in REVOCATION_CHOICES])
    note = TextAreaField(_l("Details of the reason"), validators=[Length(max=500)])
    next = HiddenField()

    def validate_note(self, field) -> None:
        if self.reason.data == "other" and not (field.data or "").strip():
            raise ValidationError(_l("Say why the card is revoked."))
