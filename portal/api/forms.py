from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from portal.api.services import MAX_NAME_LENGTH


class TokenForm(FlaskForm):
    name = StringField(_l("Name of the token"), validators=[
        DataRequired(_l("Give the token a name, e.g. the HR software that will use it.")),
        Length(max=MAX_NAME_LENGTH, message=_l("The name is too long (at most %(max)d characters).")),
    ])
