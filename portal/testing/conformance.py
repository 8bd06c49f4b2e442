"""The conformance suite every unit plugin runs: the contract of docs/plugins.md, checked the same way for each unit.

A unit plugin's tests hold one small file that inherits the suite and names the unit::

    from portal.testing.conformance import UnitConformance


    class TestCuChiConformance(UnitConformance):
        unit_code = "cugi"

The class builds one portal (no database needed) with the installed plugins, plus ``extra_plugins``
for a plugin that is not installed, and asks the unit everything through the registry the core
uses, for the standard workers and enterprises below. Each test calls a ``check_*`` function of
this module, which raises ``AssertionError`` with a message naming the unit and the case; a
plugin's own tests then cover only what is its own (a cap, a sector rule, a test requirement).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, time, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portal.plugins import api
from portal.plugins.registry import UnitRegistry

__all__ = [
    "ON", "Subject", "UnitConformance", "check_admission", "check_catalog", "check_declarations",
    "check_descriptor", "check_eligibility", "check_events", "check_extra_lines", "check_validity",
    "check_windows", "standard_enterprises", "standard_workers",
]

#: The day the standard cases are asked about (a day of the pilot).
ON = date(2021, 10, 1)

CODE = re.compile(r"[a-z][a-z0-9_]*")
SHORT_CODE = re.compile(r"[A-Z][A-Z0-9]{1,3}")
#: Characters a serial adds after the short code and its dash (the core's serials have ten).
SERIAL_SUFFIX = "-" + "Z" * 10
#: Longest printed extra line (a card is 85.6 mm wide).
EXTRA_LINE_CHARS = 120
REFUSAL_BASES = {api.Basis.NOT_VACCINATED, api.Basis.PARTIALLY_VACCINATED, api.Basis.WAITING_PERIOD,
                 api.Basis.RECOVERY_EXPIRED, api.Basis.TEST_REQUIRED, api.Basis.MISSING_DATA}
ELIGIBLE_BASES = {api.Basis.VACCINATED, api.Basis.RECOVERED}


@dataclass
class Subject:
    """The unit under test: a portal built with the installed plugins, and its registry."""

    app: object
    registry: UnitRegistry
    unit_code: str

    @property
    def unit(self) -> api.UnitDescriptor:
        return self.registry.unit(self.unit_code)

    def in_both_languages(self, text) -> tuple[str, str]:
        """Return ``text`` rendered in Vietnamese (the default) and in English."""
        with self.app.test_request_context():
            vietnamese = str(text)
        with self.app.test_request_context(headers={"Cookie": "lang=en"}):
            english = str(text)
        return vietnamese, english

    def assert_translated(self, text, what: str) -> None:
        """Fail unless ``text`` is a lazy string with a Vietnamese translation."""
        vietnamese, english = self.in_both_languages(text)
        assert english.strip(), f"unit {self.unit_code!r}: {what} is empty"
        assert vietnamese != english, (
            f"unit {self.unit_code!r}: {what} reads the same in Vietnamese and English ({english!r}): pass it "
            "to api.lazy_gettext and put its Vietnamese in the plugin's messages.po"
        )


# ---------------------------------------------------------------------------
# The standard cases
# ---------------------------------------------------------------------------

def _doses(product: str, name: str, required: int, *days_before: int) -> tuple[api.Dose, ...]:
    return tuple(api.Dose(number, product, name, required, ON - timedelta(days=days))
                 for number, days in enumerate(days_before, start=1))


#: Health facts the city's rule decides on, at its boundaries: name → WorkerFacts overrides.
HEALTH_CASES = {
    "no dose, never ill": {},
    "one of two doses": {"doses": _doses("pfizer", "Pfizer", 2, 40)},
    "second dose 13 days ago": {"doses": _doses("astrazeneca", "AstraZeneca", 2, 97, 13)},
    "second dose 14 days ago": {"doses": _doses("astrazeneca", "AstraZeneca", 2, 98, 14)},
    "Janssen 14 days ago": {"doses": _doses("janssen", "Janssen", 1, 14)},
    "two of three Abdala doses": {"doses": _doses("abdala", "Abdala", 3, 60, 40)},
    "a dose without its date": {"doses": (api.Dose(1, "pfizer", "Pfizer", 2, ON - timedelta(days=60)),
                                          api.Dose(2, "pfizer", "Pfizer", 2, None))},
    "recovered 180 days ago": {"recovered_on": ON - timedelta(days=180)},
    "recovered 181 days ago": {"recovered_on": ON - timedelta(days=181)},
    "second dose 60 days ago, negative test today": {
        "doses": _doses("moderna", "Moderna", 2, 88, 60), "negative_test": api.NegativeTest("pcr", ON)},
    "recovered 100 days ago, negative test yesterday": {
        "recovered_on": ON - timedelta(days=100),
        "negative_test": api.NegativeTest("rapid", ON - timedelta(days=1))},
    "second dose 30 days ago, negative test tomorrow": {
        "doses": _doses("verocell", "Vero Cell", 2, 58, 30),
        "negative_test": api.NegativeTest("unknown", ON + timedelta(days=1))},
}


def standard_workers(registry: UnitRegistry, unit_code: str) -> list[tuple[str, api.WorkerFacts]]:
    """Return (case name, facts) for every health case in every sector and business type of the unit.

    Shifts rotate through the declared ones and "no shift", so every shift is met.
    """
    sectors = list(registry.sectors[unit_code])
    business_types = list(registry.business_types[unit_code])
    shifts = [None, *registry.shifts]
    places = [(sector, business_types[0]) for sector in sectors]
    places += [(sectors[0], business_type) for business_type in business_types[1:]]
    cases = []
    for index, (name, overrides) in enumerate(HEALTH_CASES.items()):
        for offset, (sector, business_type) in enumerate(places):
            shift = shifts[(index + offset) % len(shifts)]
            facts = api.WorkerFacts(date_of_birth=date(1990, 5, 17), sex="F" if offset % 2 else "M", shift=shift,
                                    job_title="Công nhân", sector=sector, business_type=business_type)
            cases.append((f"{name} ({sector}, {business_type}, shift {shift})", replace(facts, **overrides)))
    return cases


def standard_enterprises(registry: UnitRegistry, unit_code: str) -> list[api.EnterpriseFacts]:
    """Return an enterprise for every business type, sector and location the unit declares."""
    business_types = list(registry.business_types[unit_code])
    sectors = list(registry.sectors[unit_code])
    locations = list(registry.locations[unit_code]) or [None]
    choices = [(business_type, sectors[0], locations[0]) for business_type in business_types]
    choices += [(business_types[0], sector, locations[0]) for sector in sectors[1:]]
    choices += [(business_types[0], sectors[0], location) for location in locations[1:]]
    return [api.EnterpriseFacts(tax_code="0301234562", business_type=business_type, sector=sector,
                                location=location, ward="Phường Tân Phong", district="Quận 7")
            for business_type, sector, location in choices]


def _a_pass(subject: Subject, windows=api.DEFAULT_WINDOWS) -> api.PassFacts:
    return api.PassFacts(f"{subject.unit.short_code}-0000000001", 1, subject.unit_code, "0301234562",
                         ON, ON + timedelta(days=30), tuple(windows))


# ---------------------------------------------------------------------------
# The checks
# ---------------------------------------------------------------------------

def check_descriptor(subject: Subject) -> None:
    """The descriptor is well-formed and its short code fits a serial and a token."""
    from portal.tokens.codec import MAX_TEXT_CHARS, TEXT_ALPHABET

    registry, code = subject.registry, subject.unit_code
    unit = subject.unit
    assert isinstance(unit, api.UnitDescriptor)
    assert unit.code == code
    assert CODE.fullmatch(code) and len(code) <= 32, f"unit code {code!r}: lowercase letters, digits, _ (≤ 32)"
    assert SHORT_CODE.fullmatch(unit.short_code), (
        f"unit {code!r}: short code {unit.short_code!r} must be 2-4 capitals or digits, starting with a letter")
    serial = unit.short_code + SERIAL_SUFFIX
    assert set(serial) <= set(TEXT_ALPHABET) and len(serial) <= MAX_TEXT_CHARS
    for field in ("name_vi", "name_en", "authority_vi", "authority_en"):
        value = getattr(unit, field)
        assert isinstance(value, str) and value.strip() == value and 0 < len(value) <= 200, (
            f"unit {code!r}: {field} must be 1-200 characters without surrounding spaces, not {value!r}")
    assert bool(unit.travel_note_vi) == bool(unit.travel_note_en), (
        f"unit {code!r}: give the travel note in both languages or in neither")
    plugin = registry.plugin(code)
    from_entry_point = any(loaded is plugin for loaded, _dist in registry.pm.list_plugin_distinfo())
    if from_entry_point:
        assert registry.pm.get_name(plugin) == code, (
            f"unit {code!r}: name its entry point {code!r} (setup.cfg), so PORTAL_DISABLED_PLUGINS={code} "
            "disables it")


def check_declarations(subject: Subject) -> None:
    """Business types, sectors and locations (and shifts the plugin adds) have unique codes and both languages."""
    registry, code = subject.registry, subject.unit_code
    for hook, what in (("portal_business_types", "business type"), ("portal_sectors", "sector"),
                       ("portal_locations", "location")):
        items = [item for answer in registry.hook(code, hook)() for item in answer]
        codes = [item.code for item in items]
        assert len(codes) == len(set(codes)), f"unit {code!r}: a {what} code is declared twice: {codes}"
        if what != "location":
            assert items, f"unit {code!r}: declare at least one {what}, or no enterprise can register"
        for item in items:
            _check_named(code, what, item, max_code=64)
    if registry.implements(code, "portal_shifts"):
        for shift in registry.plugin(code).portal_shifts():
            _check_named(code, "shift", shift, max_code=32)
            assert isinstance(shift.start, time) and isinstance(shift.end, time) and shift.start != shift.end, (
                f"unit {code!r}: shift {shift.code!r} must start and end at different times")


def _check_named(unit_code: str, what: str, item, *, max_code: int) -> None:
    assert CODE.fullmatch(item.code) and len(item.code) <= max_code, (
        f"unit {unit_code!r}: {what} code {item.code!r} must be lowercase letters, digits and _ (≤ {max_code})")
    for field in ("name_vi", "name_en"):
        value = getattr(item, field)
        assert isinstance(value, str) and value.strip(), f"unit {unit_code!r}: {what} {item.code!r} has no {field}"


def check_eligibility(subject: Subject) -> None:
    """Every standard worker gets a well-formed answer with a translated reason, never looser than the city's."""
    registry, code = subject.registry, subject.unit_code
    keeps_default = not registry.implements(code, "portal_worker_eligibility")
    for case, worker in standard_workers(registry, code):
        result = registry.eligibility(code, worker, ON)
        where = f"unit {code!r}, {case}"
        assert isinstance(result, api.Eligibility), f"{where}: got {result!r}, not an api.Eligibility"
        assert isinstance(result.eligible, bool) and isinstance(result.basis, api.Basis), where
        if result.eligible:
            assert result.basis not in REFUSAL_BASES, f"{where}: eligible with the refusal basis {result.basis}"
            assert result.since is not None and result.since <= ON, f"{where}: eligible since {result.since}"
            assert result.until is None or result.until >= ON, f"{where}: eligible until {result.until}"
        else:
            assert result.basis not in ELIGIBLE_BASES, f"{where}: refused with the basis {result.basis}"
            assert result.since is None or result.since > ON, f"{where}: refused but 'since' {result.since}"
        for day in (result.since, result.until):
            assert day is None or isinstance(day, date), f"{where}: {day!r} is not a date"
        subject.assert_translated(result.reason, f"the eligibility reason for {case}")
        default = api.default_eligibility(worker, ON)
        if not default.eligible:
            assert not result.eligible, f"{where}: eligible although the city's rule refuses ({default.basis})"
        if keeps_default:
            assert (result.eligible, result.basis, result.since, result.until) == (
                default.eligible, default.basis, default.since, default.until) and (
                subject.in_both_languages(result.reason) == subject.in_both_languages(default.reason)), (
                f"{where}: the unit does not implement portal_worker_eligibility, yet the answer is not the "
                "city's rule")


def check_validity(subject: Subject) -> None:
    """A card issued to an eligible standard worker starts on the day of issue and never outlives eligibility."""
    registry, code = subject.registry, subject.unit_code
    keeps_default = not registry.implements(code, "portal_pass_validity")
    issued = 0
    for case, worker in standard_workers(registry, code):
        eligibility = registry.eligibility(code, worker, ON)
        if not eligibility.eligible:
            continue
        issued += 1
        where = f"unit {code!r}, {case}"
        validity = registry.validity(code, worker, eligibility, ON)
        assert isinstance(validity, api.Validity), f"{where}: got {validity!r}, not an api.Validity"
        assert ON <= validity.valid_from <= validity.valid_until, f"{where}: {validity}"
        if eligibility.until is not None:
            assert validity.valid_until <= eligibility.until, (
                f"{where}: the card ends {validity.valid_until}, after eligibility ends ({eligibility.until})")
        if keeps_default:
            assert validity == api.default_validity(eligibility, ON), (
                f"{where}: the unit does not implement portal_pass_validity, yet the validity is not the default")
    assert issued, f"unit {code!r}: no standard worker is eligible, not even one the city's rule admits"


def check_windows(subject: Subject) -> None:
    """Every shift gets non-empty windows that fit a token; they follow the shift exactly when the unit says so."""
    from portal.tokens.codec import (
        MAX_TOKEN_CHARS,
        MAX_WINDOWS,
        SHORT_NAME_CHARS,
        TokenPayload,
        decode_token,
        sign_payload,
    )

    registry, code = subject.registry, subject.unit_code
    key = Ed25519PrivateKey.generate()
    keeps_default = not registry.implements(code, "portal_commute_windows")
    answers = {}
    for shift in (None, *registry.shifts):
        where = f"unit {code!r}, shift {shift!r}"
        windows = registry.commute_windows(code, shift)
        assert isinstance(windows, list | tuple) and windows, f"{where}: no windows ({windows!r})"
        assert len(windows) <= MAX_WINDOWS, f"{where}: {len(windows)} windows; a token holds {MAX_WINDOWS}"
        for window in windows:
            assert isinstance(window, api.CommuteWindow), f"{where}: {window!r} is not an api.CommuteWindow"
            assert window.direction in ("to_work", "to_home"), f"{where}: direction {window.direction!r}"
            for moment in (window.start, window.end):
                assert isinstance(moment, time) and not moment.second and not moment.microsecond, (
                    f"{where}: window {window} must start and end on whole minutes")
            assert window.start != window.end, f"{where}: window {window.label()} is empty"
        payload = TokenPayload(serial=subject.unit.short_code + SERIAL_SUFFIX, version=99, unit=subject.unit.short_code,
                               valid_from=ON, valid_until=ON + timedelta(days=182), windows=tuple(windows),
                               name="X" * SHORT_NAME_CHARS)
        token = sign_payload(payload, "0a0b", key)
        assert len(token) <= MAX_TOKEN_CHARS, f"{where}: the token is {len(token)} characters"
        assert decode_token(token, {"0a0b": key.public_key()}).windows == tuple(windows), where
        if keeps_default:
            assert tuple(windows) == api.DEFAULT_WINDOWS, (
                f"{where}: the unit does not implement portal_commute_windows, yet the windows are not the city's")
        answers[shift] = tuple(windows)
    follows = registry.windows_follow_shift(code)
    assert isinstance(follows, bool)
    assert (len(set(answers.values())) > 1) == follows, (
        f"unit {code!r}: portal_windows_follow_shift says {follows}, but the windows "
        f"{'do not ' if follows else ''}differ between shifts")
    for shift in registry.shifts:
        journeys = registry.journeys_outside_windows(code, shift)
        assert set(journeys) <= {"to_work", "to_home"}
        assert registry.shift_outside_windows(code, shift) == bool(journeys)


def check_admission(subject: Subject) -> None:
    """Every declared choice gets an Admission; refusals are translated; some enterprise can join."""
    registry, code = subject.registry, subject.unit_code
    admitted = 0
    enterprises = standard_enterprises(registry, code)
    asked = [(enterprise, 0) for enterprise in enterprises] + [(enterprises[0], 10_000)]
    for enterprise, approved_count in asked:
        where = (f"unit {code!r}, enterprise {enterprise.business_type}/{enterprise.sector}/"
                 f"{enterprise.location} with {approved_count} approved")
        admission = registry.admit(code, enterprise, approved_count)
        assert isinstance(admission, api.Admission), f"{where}: got {admission!r}, not an api.Admission"
        assert isinstance(admission.admitted, bool), where
        if admission.admitted:
            admitted += approved_count == 0
        else:
            subject.assert_translated(admission.reason, f"the refusal of {where}")
    assert admitted, f"unit {code!r}: no enterprise it declares can be admitted"


def check_extra_lines(subject: Subject) -> None:
    """Extra lines are short single lines of text in both languages."""
    registry, code = subject.registry, subject.unit_code
    for windows in (api.DEFAULT_WINDOWS, tuple(registry.commute_windows(code, "shift3"))):
        lines = registry.extra_lines(code, _a_pass(subject, windows))
        assert isinstance(lines, list)
        for line in lines:
            for rendered in subject.in_both_languages(line):
                assert rendered.strip() and "\n" not in rendered and len(rendered) <= EXTRA_LINE_CHARS, (
                    f"unit {code!r}: extra line {rendered!r} must be one line of 1-{EXTRA_LINE_CHARS} characters")


def check_events(subject: Subject) -> None:
    """The event hooks accept what the core tells them."""
    registry, code = subject.registry, subject.unit_code
    enterprise = standard_enterprises(registry, code)[0]
    registry.notify(code, "portal_enterprise_approved", enterprise=enterprise)
    registry.notify(code, "portal_pass_issued", pass_=_a_pass(subject))
    registry.notify(code, "portal_pass_revoked", pass_=_a_pass(subject), reason="Nghỉ việc")


def check_catalog(subject: Subject) -> None:
    """Every message of the plugin's package has a Vietnamese translation keeping its placeholders."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
    from babel.messages.pofile import read_po

    module_file = getattr(subject.registry.plugin(subject.unit_code), "__file__", None)
    if module_file is None:
        pytest.skip("the unit's plugin is not a module: nothing to extract")
    package = Path(module_file).parent
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None}
    msgids = {message for source in sorted(package.rglob("*.py"))
              for _line, message, _comments, _context in extract_from_file("python", source, keywords=keywords)}
    catalog_path = package / "translations" / "vi" / "LC_MESSAGES" / "messages.po"
    if not msgids:
        return
    assert catalog_path.is_file(), f"unit {subject.unit_code!r}: messages but no catalog at {catalog_path}"
    with catalog_path.open("rb") as handle:
        catalog = read_po(handle, locale="vi")
    placeholder = re.compile(r"%\((\w+)\)s")
    for msgid in sorted(msgids):
        entry = catalog.get(msgid)
        assert entry is not None and entry.string, f"unit {subject.unit_code!r}: no Vietnamese for {msgid!r}"
        assert set(placeholder.findall(entry.string)) == set(placeholder.findall(msgid)), (
            f"unit {subject.unit_code!r}: the Vietnamese of {msgid!r} must keep its placeholders")


# ---------------------------------------------------------------------------
# The suite
# ---------------------------------------------------------------------------

class UnitConformance:
    """Inherit in a ``Test...`` class and set ``unit_code``; pytest runs every check for that unit."""

    #: The code of the unit under test (its ``portal_unit().code``).
    unit_code: str = ""
    #: Plugins to register besides the installed ones (objects or dotted module names).
    extra_plugins: tuple = ()

    @pytest.fixture(scope="class")
    @classmethod
    def conformance(cls, tmp_path_factory):
        """Build one portal for the class (its database is never used) and yield the unit under test."""
        from portal import create_app
        from portal.extensions import db
        from portal.testing.fixtures import _test_config

        assert cls.unit_code, f"{cls.__name__} must set unit_code"
        config = _test_config("sqlite://", tmp_path_factory.mktemp("conformance"),
                              PORTAL_EXTRA_PLUGINS=tuple(cls.extra_plugins))
        app = create_app(config)
        registry = app.extensions["portal.plugins"].registry
        assert cls.unit_code in registry.units, (
            f"no installed plugin brings unit {cls.unit_code!r}; installed: {sorted(registry.units)}")
        yield Subject(app, registry, cls.unit_code)
        with app.app_context():
            db.engine.dispose()

    def test_unit_descriptor_is_well_formed(self, conformance):
        check_descriptor(conformance)

    def test_declarations_have_unique_codes_and_both_languages(self, conformance):
        check_declarations(conformance)

    def test_standard_workers_get_well_formed_translated_answers(self, conformance):
        check_eligibility(conformance)

    def test_validity_never_ends_after_eligibility(self, conformance):
        check_validity(conformance)

    def test_windows_are_non_empty_fit_a_token_and_follow_the_shift_as_declared(self, conformance):
        check_windows(conformance)

    def test_declared_enterprises_get_an_admission(self, conformance):
        check_admission(conformance)

    def test_extra_lines_are_short_single_lines(self, conformance):
        check_extra_lines(conformance)

    def test_event_hooks_accept_the_core_s_facts(self, conformance):
        check_events(conformance)

    def test_every_message_has_a_vietnamese_translation(self, conformance):
        check_catalog(conformance)
