"""Everything printed on one pass, gathered once from the database and the unit's plugin."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from portal.clock import format_time, local
from portal.plugins.types import CommuteWindow, PassFacts
from portal.tokens.codec import sign_pass_token
from portal.tokens.pass_data import pass_windows, valid_days

#: The path of the checkpoint page; the QR code holds ``<base URL>/v/<token>``.
VERIFY_PATH = "/v/"


@dataclass(frozen=True)
class PassCard:
    """What a pass shows: who, where, when, and the signed QR. No health data."""

    serial: str
    version: int
    holder_name: str
    birth_year: int
    masked_id: str
    enterprise_name: str
    workplace_address: str
    unit_code: str
    unit_name: str
    route_from: str
    route_to: str
    windows: tuple[CommuteWindow, ...]
    valid_from: date
    valid_until: date
    token: str
    verify_url: str
    extra_lines: tuple[str, ...]
    issued_on: date
    unit_authority: str = ""
    locale: str = "vi"


def verify_url(base_url: str, token: str) -> str:
    """Return the checkpoint URL of ``token`` under ``base_url`` (``PUBLIC_BASE_URL`` or the request host)."""
    return base_url.rstrip("/") + VERIFY_PATH + token


def public_base_url() -> str:
    """Return ``PUBLIC_BASE_URL``, else the current request's host URL (outside a request: localhost)."""
    from flask import current_app, has_request_context, request

    configured = current_app.config.get("PUBLIC_BASE_URL")
    if configured:
        return configured
    if current_app.config.get("PORTAL_ENV") == "production":
        # Production refuses to start without it (portal.config.check_production); never trust a Host header.
        raise RuntimeError("PUBLIC_BASE_URL is not set: production never prints the request's Host into a QR code")
    return request.host_url if has_request_context() else "http://localhost"


def pass_facts(pass_) -> PassFacts:
    """Return the plugin-facing facts of ``pass_``."""
    valid_from, valid_until = valid_days(pass_)
    return PassFacts(serial=pass_.serial, version=pass_.version, unit=pass_.unit.code,
                     enterprise_tax_code=pass_.enterprise.tax_code, valid_from=valid_from,
                     valid_until=valid_until, windows=pass_windows(pass_))


def workplace_address(enterprise) -> str:
    return ", ".join(part for part in (enterprise.address, enterprise.ward, enterprise.district) if part)


#: What a card says of a shift that starts or ends outside its hours, by the journeys concerned.
SHIFT_PERMIT_NOTES = {
    ("to_work", "to_home"): _l("%(shift)s (%(start)s–%(end)s): going to work and going home are outside these "
                               "hours and need the travel permit (giấy đi đường)."),
    ("to_work",): _l("%(shift)s (%(start)s–%(end)s): going to work is outside these hours and needs the travel "
                     "permit (giấy đi đường)."),
    ("to_home",): _l("%(shift)s (%(start)s–%(end)s): going home is outside these hours and needs the travel "
                     "permit (giấy đi đường)."),
}


def shift_permit_note(registry, unit_code: str, shift_code: str | None, locale: str = "vi") -> str | None:
    """Return the line saying which journeys of ``shift_code`` need the travel permit, or None when none do.

    Only where the unit's windows do not follow the shift: there the shift does not change the card's
    hours, so a worker whose shift starts or ends outside them must be told.
    """
    if not shift_code or registry.windows_follow_shift(unit_code):
        return None
    journeys = registry.journeys_outside_windows(unit_code, shift_code)
    if not journeys:
        return None
    shift = registry.shifts[shift_code]
    with force_locale(locale):
        return str(SHIFT_PERMIT_NOTES[journeys] % {
            "shift": shift.name_en if locale == "en" else shift.name_vi,
            "start": format_time(shift.start), "end": format_time(shift.end)})


def build_card(pass_, registry, *, base_url: str, locale: str = "vi", keys=None) -> PassCard:
    """Gather ``pass_``'s printed content and sign its token (with ``keys`` or the app's key ring)."""
    worker, enterprise, unit = pass_.worker, pass_.enterprise, pass_.unit
    valid_from, valid_until = valid_days(pass_)
    token = sign_pass_token(pass_, keys=keys)
    with force_locale(locale):
        # Plugins answer with lazy strings: resolve them in the pass's language, not the request's.
        extra = tuple(str(line) for line in registry.extra_lines(unit.code, pass_facts(pass_)))
    note = shift_permit_note(registry, unit.code, worker.shift, locale)
    if note:
        extra += (note,)
    return PassCard(
        serial=pass_.serial, version=pass_.version, holder_name=worker.full_name,
        birth_year=worker.date_of_birth.year, masked_id=worker.masked_citizen_id,
        enterprise_name=enterprise.name, workplace_address=workplace_address(enterprise),
        unit_code=unit.code, unit_name=unit.name(locale), route_from=pass_.route_from, route_to=pass_.route_to,
        windows=pass_windows(pass_), valid_from=valid_from, valid_until=valid_until, token=token,
        verify_url=verify_url(base_url, token), extra_lines=extra, issued_on=local(pass_.issued_at).date(),
        unit_authority=unit.authority_en if locale == "en" else unit.authority_vi, locale=locale,
    )
