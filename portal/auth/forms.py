from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, RadioField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length

from portal.auth.services import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH


def _email_field(label=None):
    return EmailField(label or _l("Email"), validators=[DataRequired(_l("Enter your email.")),
                                                        Email(_l("This is not a valid email address.")),
                                                        Length(max=254)])


def _new_password_fields():
    password = PasswordField(_l("New password"), validators=[
        DataRequired(_l("Enter a new password.")),
        Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH,
               message=_l("The password must have %(min)s to %(max)s characters.",
                          min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH))])
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(_l("Type the new password again.")),
        EqualTo("password", _l("The two passwords are not the same."))])
    return password, confirm


class LoginForm(FlaskForm):
    email = _email_field()
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")),
                                                        Length(max=MAX_PASSWORD_LENGTH)])
    remember = BooleanField(_l("Keep me signed in on this device"))
    submit = SubmitField(_l("Sign in"))


class ActionForm(FlaskForm):
    """A button that posts (its CSRF token is all it carries)."""


class TwoFactorForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(_l("Enter the code.")), Length(max=32)])


class ForgotPasswordForm(FlaskForm):
    email = _email_field()


class ResetPasswordForm(FlaskForm):
    password, confirm = _new_password_fields()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[
        DataRequired(_l("Enter your current password.")), Length(max=MAX_PASSWORD_LENGTH)])
    password, confirm = _new_password_fields()


class ChangeAddressForm(FlaskForm):
    email = _email_field(_l("The right email"))
    password = PasswordField(_l("Your password"), validators=[DataRequired(_l("Enter your password.")),
                                                             Length(max=MAX_PASSWORD_LENGTH)])


class PasswordForm(FlaskForm):
    """An action that asks for the password again."""

    password = PasswordField(_l("Your password"), validators=[DataRequired(_l("Enter your password.")),
                                                             Length(max=MAX_PASSWORD_LENGTH)])


class LanguageForm(FlaskForm):
    locale = RadioField(_l("Language of the mails you receive"),
                        choices=[SelectChoice("vi", "Tiếng Việt"), SelectChoice("en", "English")],
                        validators=[DataRequired(_l("Choose a language."))])
