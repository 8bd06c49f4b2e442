from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SubmitField


class UploadForm(FlaskForm):
    file = FileField(_l("Worker list (.xlsx or .csv)"), validators=[FileRequired(_l("Choose the file to upload."))])
    submit = SubmitField(_l("Check the list"))


class CommitForm(FlaskForm):
    valid_only = BooleanField(_l("Import only the valid rows and skip the rows with problems"))
    submit = SubmitField(_l("Import"))
