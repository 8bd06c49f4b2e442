"""API tokens, and the JSON shape of a worker going in and out of the API."""
from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.api.models import ApiToken
from portal.audit.services import record
from portal.clock import format_date, parse_date, utcnow
from portal.messages import Refusal
from portal.workers.models import Worker
from portal.workers.validation import MAX_DOSES

#: Every secret starts with this, so that a leaked one is easy to recognise (and to search for in code).
SECRET_PREFIX = "gct_"
#: How many characters of the secret HR sees afterwards, to tell tokens apart.
VISIBLE_PREFIX = 12
#: last_used_at is written at most this often per token (not on every request).
TOUCH_INTERVAL = timedelta(minutes=1)
MAX_NAME_LENGTH = 100

SCALAR_FIELDS = (
    "full_name", "date_of_birth", "sex", "citizen_id", "phone", "home_address", "home_ward", "home_district",
    "job_title", "shift", "recovered_on", "test_kind", "tested_on",
)
#: Fields of the API's worker that a client may send back unchanged; they are ignored.
READ_ONLY_FIELDS = ("id", "active", "left_on", "created_at", "updated_at", "notices")
DOSE_FIELDS = ("product", "given_on")


# -- tokens ------------------------------------------------------------------------


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(session, enterprise, name: str, actor) -> tuple[ApiToken, str]:
    """Add a token for ``enterprise``; return it with its secret, which is never stored nor shown again."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(enterprise_id=enterprise.id, name=name, prefix=secret[:VISIBLE_PREFIX],
                     token_hash=hash_secret(secret), created_by_id=actor.id, created_at=utcnow())
    session.add(token)
    session.flush()
    record(session, actor, "api_token.created", token, after={"name": name, "prefix": token.prefix},
           enterprise_id=enterprise.id, unit_id=enterprise.unit_id)
    return token, secret


def revoke_token(session, token: ApiToken, actor) -> None:
    """Stop ``token`` working from now on."""
    if token.revoked_at is not None:
        return
    token.revoked_at = utcnow()
    token.revoked_by_id = actor.id
    enterprise = token.enterprise
    record(session, actor, "api_token.revoked", token, after={"name": token.name, "prefix": token.prefix},
           enterprise_id=enterprise.id, unit_id=enterprise.unit_id)


def tokens_of(session, enterprise_id: int) -> list[ApiToken]:
    """Return the enterprise's tokens, working ones first, newest first."""
    return list(session.scalars(select(ApiToken).where(ApiToken.enterprise_id == enterprise_id)
                                .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())))


def authenticate(session, secret: str | None) -> ApiToken | None:
    """Return the working token with this secret (its creator's account still enabled), else None."""
    if not secret or not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(secret)))
    if token is None or token.revoked_at is not None or not token.created_by.is_active:
        return None
    return token


def touch_due(token: ApiToken, now: datetime | None = None) -> bool:
    """Say whether ``token``'s last use is older than the interval it is recorded at."""
    now = now or utcnow()
    return token.last_used_at is None or now - token.last_used_at >= TOUCH_INTERVAL


def touch(token: ApiToken, now: datetime | None = None) -> bool:
    """Record that ``token`` was used; return whether anything was written (at most once a minute)."""
    now = now or utcnow()
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_INTERVAL:
        return False
    token.last_used_at = now
    return True


def audit_reason(token: ApiToken) -> str:
    """Say, for the audit trail, which token made a change."""
    return f"API: {token.name} ({token.prefix}…)"


# -- workers as JSON -------------------------------------------------------------------


def iso(value: date | datetime | None) -> str | None:
    """Return a date as yyyy-mm-dd, an instant as UTC ISO 8601 with 'Z'."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def worker_json(worker: Worker) -> dict:
    """Return a worker as the API gives it."""
    return {
        "id": worker.id,
        "full_name": worker.full_name,
        "date_of_birth": iso(worker.date_of_birth),
        "sex": worker.sex,
        "citizen_id": worker.citizen_id,
        "phone": worker.phone,
        "home_address": worker.home_address,
        "home_ward": worker.home_ward,
        "home_district": worker.home_district,
        "job_title": worker.job_title or "",
        "shift": worker.shift,
        "doses": [{"number": dose.number, "product": dose.product, "given_on": iso(dose.given_on)}
                  for dose in worker.doses],
        "recovered_on": iso(worker.recovered_on),
        "test_kind": worker.test_kind,
        "tested_on": iso(worker.tested_on),
        "active": worker.active,
        "left_on": iso(worker.left_on),
        "created_at": iso(worker.created_at),
        "updated_at": iso(worker.updated_at),
    }


def stored_input(worker: Worker) -> dict:
    """Return a stored worker in the API's input shape (the base a PATCH is merged onto)."""
    data = worker_json(worker)
    return {key: data[key] for key in (*SCALAR_FIELDS, "doses")}


def worker_input(payload: object) -> tuple[dict, list[Refusal]]:
    """Turn one JSON worker into the raw values clean_worker takes; report what is not shaped right."""
    if not isinstance(payload, dict):
        return {}, [Refusal(_l("Each worker must be a JSON object."), field="")]
    errors = [Refusal(_l("Unknown field."), field=str(key))
              for key in payload if key not in (*SCALAR_FIELDS, "doses", *READ_ONLY_FIELDS)]
    raw = {key: payload.get(key) for key in SCALAR_FIELDS}
    doses = payload.get("doses")
    if doses is None:
        doses = []
    if not isinstance(doses, list) or len(doses) > MAX_DOSES:
        errors.append(Refusal(_l("doses must be a list of at most %(max)s doses.", max=MAX_DOSES), field="doses"))
        doses = []
    for index, dose in enumerate(doses):
        if not isinstance(dose, dict):
            errors.append(Refusal(_l("Each dose must be an object with product and given_on."),
                                  field=f"doses[{index}]"))
            continue
        errors += [Refusal(_l("Unknown field."), field=f"doses[{index}].{key}")
                   for key in dose if key not in (*DOSE_FIELDS, "number")]
        raw[f"dose{index + 1}_product"] = dose.get("product")
        raw[f"dose{index + 1}_date"] = dose.get("given_on")
    return raw, errors


def api_field(field: str) -> str:
    """Name a validation field the way the API's JSON does (dose2_date → doses[1].given_on)."""
    if field.startswith("dose") and "_" in field and field[4:5].isdigit():
        number, part = field[4:].split("_", 1)
        return f"doses[{int(number) - 1}].{'product' if part == 'product' else 'given_on'}"
    return field


def field_errors(errors: list[Refusal], row: int | None = None) -> list[dict]:
    """Return errors as the API lists them: field (JSON path), message, and the row in a bulk call."""
    listed = []
    for error in errors:
        item = {"field": api_field(error.field), "message": str(error)}
        if row is not None:
            item = {"row": row, **item}
        listed.append(item)
    return listed


def parse_left_on(value: object, today: date) -> date:
    """Return the leaving date sent (ISO or dd/mm/yyyy; today when absent); raise ValueError with a message."""
    if value is None or value == "":
        return today
    if not isinstance(value, str):
        raise ValueError(_("left_on must be a date written yyyy-mm-dd."))
    try:
        day = parse_date(value)
    except ValueError:
        raise ValueError(_("left_on must be a date written yyyy-mm-dd.")) from None
    if day > today:
        raise ValueError(_("The date the worker left cannot be in the future (%(date)s).", date=format_date(day)))
    return day
