"""What every feature's forms share: showing a service's refusal where the user will look for it."""
from __future__ import annotations

from flask_wtf import FlaskForm

from portal.messages import Refusal


def place_refusal(form: FlaskForm, refusal: Refusal) -> list[Refusal]:
    """Show each problem of ``refusal`` under its field of ``form``; return those about no field of it.

    The caller shows what is returned (a conflict, a unit not active) itself, as a flash or at the
    top of the form.
    """
    unplaced = []
    for problem in refusal:
        field = getattr(form, problem.field, None) if problem.field else None
        if field is None or not hasattr(field, "errors"):
            unplaced.append(problem)
        else:
            field.errors = [*field.errors, str(problem)]
    return unplaced


#: What a confirmation box (``name="confirm"``) sends when ticked, however the form was made.
CONFIRMED_VALUES = frozenset({"y", "yes", "1", "on", "true"})


def confirmed(formdata) -> bool:
    """Say whether ``formdata`` (``request.form``) carries a ticked confirmation box."""
    return (formdata.get("confirm") or "").strip().lower() in CONFIRMED_VALUES
