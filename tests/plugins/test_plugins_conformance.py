"""The conformance suite catches what it promises to catch (the five units pass it in their own tests)."""
from __future__ import annotations

import types
from datetime import date, time, timedelta

import pytest

from portal import create_app
from portal.plugins import api, hookimpl
from portal.testing import conformance
from portal.testing.conformance import ON, Subject
from portal.testing.fixtures import _test_config

_ = api.lazy_gettext


def unit_plugin(**hookimpls) -> types.ModuleType:
    """Return a well-behaved unit plugin ("sample", short code "SP"), with ``hookimpls`` replacing its own."""
    module = types.ModuleType("portal_sample_unit")
    own = {
        "portal_unit": lambda: api.UnitDescriptor("sample", "SP", "Đơn vị mẫu", "Sample unit", "UBND", "PC"),
        "portal_business_types": lambda: [api.BusinessType("factory", "Nhà máy", "Factory")],
        "portal_sectors": lambda: [api.Sector("food_supply", "Cung ứng thực phẩm", "Food supply")],
    }
    for name, function in {**own, **hookimpls}.items():
        setattr(module, name, hookimpl(function))
    return module


@pytest.fixture
def subject_of(tmp_path):
    """Return a function building the conformance subject for a plugin (as UnitConformance does)."""
    def build(plugin, unit_code: str = "sample") -> Subject:
        app = create_app(_test_config("sqlite://", tmp_path, PORTAL_EXTRA_PLUGINS=(plugin,)))
        return Subject(app, app.extensions["portal.plugins"].registry, unit_code)

    return build


CHECKS = [conformance.check_descriptor, conformance.check_declarations, conformance.check_eligibility,
          conformance.check_validity, conformance.check_windows, conformance.check_admission,
          conformance.check_extra_lines, conformance.check_events]


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_a_unit_that_keeps_every_default_passes(subject_of, check):
    check(subject_of(unit_plugin()))


def failure(subject, check) -> str:
    with pytest.raises(AssertionError) as failed:
        check(subject)
    return str(failed.value)


# -- the descriptor and declarations ---------------------------------------------------------


@pytest.mark.parametrize(("descriptor", "expected"), [
    (api.UnitDescriptor("sample", "sp", "Đơn vị mẫu", "Sample unit", "UBND", "PC"), "short code 'sp' must be"),
    (api.UnitDescriptor("sample", "SAMPLE", "Đơn vị mẫu", "Sample unit", "UBND", "PC"), "2-4 capitals"),
    (api.UnitDescriptor("sample", "SP", "Đơn vị mẫu ", "Sample unit", "UBND", "PC"), "name_vi must be"),
    (api.UnitDescriptor("sample", "SP", "Đơn vị mẫu", "Sample unit", "UBND", "PC", travel_note_vi="Giấy đi đường"),
     "travel note in both languages"),
])
def test_check_descriptor(subject_of, descriptor, expected):
    assert expected in failure(subject_of(unit_plugin(portal_unit=lambda: descriptor)), conformance.check_descriptor)


def test_check_descriptor_entry_point_named_after_the_unit(pm):
    registry = pm.registry
    subject = Subject(None, registry, "cugi")
    conformance.check_descriptor(subject)
    registry.pm._name2plugin["cu_chi"] = registry.pm._name2plugin.pop("cugi")  # as if setup.cfg named it so
    assert "name its entry point 'cugi'" in failure(subject, conformance.check_descriptor)


@pytest.mark.parametrize(("hooks", "expected"), [
    ({"portal_sectors": lambda: []}, "declare at least one sector"),  # noqa: PIE807
    ({"portal_sectors": lambda: [api.Sector("Food", "Thực phẩm", "Food")]}, "sector code 'Food' must be"),
    ({"portal_business_types": lambda: [api.BusinessType("factory", "Nhà máy", "")]}, "has no name_en"),
    ({"portal_shifts": lambda: [api.Shift("night", "Ca đêm", "Night", time(22), time(22))]},
     "shift 'night' must start and end at different times"),
])
def test_check_declarations(subject_of, hooks, expected):
    assert expected in failure(subject_of(unit_plugin(**hooks)), conformance.check_declarations)


# -- eligibility and validity --------------------------------------------------------------------


def test_check_eligibility_wants_translated_reasons(subject_of):
    untranslated = unit_plugin(portal_worker_eligibility=lambda unit, worker, on_date: api.Eligibility(
        False, api.Basis.TEST_REQUIRED, "A test is required."))
    assert "reads the same in Vietnamese and English ('A test is required.')" in failure(
        subject_of(untranslated), conformance.check_eligibility)


def test_check_eligibility_refuses_a_looser_rule(subject_of):
    everyone = unit_plugin(portal_worker_eligibility=lambda unit, worker, on_date: api.Eligibility(
        True, api.Basis.OTHER, _("Dose %(number)s is missing its vaccine or its date.", number=1), since=on_date))
    assert "eligible although the city's rule refuses" in failure(subject_of(everyone), conformance.check_eligibility)


def test_check_eligibility_wants_the_basis_to_agree(subject_of):
    def backwards(unit, worker, on_date):
        answer = api.default_eligibility(worker, on_date)
        return api.Eligibility(answer.eligible, api.Basis.NOT_VACCINATED if answer.eligible else answer.basis,
                               answer.reason, answer.since, answer.until)

    assert "eligible with the refusal basis" in failure(subject_of(unit_plugin(portal_worker_eligibility=backwards)),
                                                        conformance.check_eligibility)


def test_check_eligibility_wants_the_default_from_a_unit_that_keeps_it(subject_of):
    # A plugin that is not a unit changes every unit's answers: a unit without its own rule must not drift.
    meddler = types.ModuleType("portal_meddler")
    meddler.portal_worker_eligibility = hookimpl(lambda unit, worker, on_date: api.Eligibility(
        False, api.Basis.OTHER, _("No vaccine dose and no recovery registered.")))
    subject = subject_of(unit_plugin())
    subject.registry.pm.register(meddler)
    assert "yet the answer is not the city's rule" in failure(subject, conformance.check_eligibility)


def test_check_validity_wants_cards_to_end_with_eligibility(subject_of):
    too_long = unit_plugin(portal_pass_validity=lambda unit, worker, eligibility, issued_on: api.Validity(
        issued_on, issued_on + timedelta(days=365)))
    assert "after eligibility ends" in failure(subject_of(too_long), conformance.check_validity)


def test_check_validity_wants_cards_to_start_on_the_day_of_issue(subject_of):
    backdated = unit_plugin(portal_pass_validity=lambda unit, worker, eligibility, issued_on: api.Validity(
        issued_on - timedelta(days=1), issued_on))
    message = failure(subject_of(backdated), conformance.check_validity)
    assert "Validity(valid_from=datetime.date(2021, 9, 30)" in message


# -- windows, admission, lines, catalog ----------------------------------------------------------


@pytest.mark.parametrize(("windows", "expected"), [
    ([api.CommuteWindow(time(h), time(h, 30)) for h in range(8)], "8 windows; a token holds 7"),
    ([api.CommuteWindow(time(6, 30, 30), time(8))], "must start and end on whole minutes"),
    ([api.CommuteWindow(time(6, 30), time(6, 30))], "window 06:30–06:30 is empty"),
    ([api.CommuteWindow(time(6, 30), time(8), "sideways")], "direction 'sideways'"),
])
def test_check_windows(subject_of, windows, expected):
    plugin = unit_plugin(portal_commute_windows=lambda unit, shift: windows)
    assert expected in failure(subject_of(plugin), conformance.check_windows)


def test_check_admission_wants_someone_admitted(subject_of):
    nobody = unit_plugin(portal_admit_enterprise=lambda unit, enterprise, approved_count: api.Admission(
        False, _("The unit no longer lists the sector “%(code)s” that this enterprise declared, so it cannot be "
                 "approved.", code="food_supply")))
    assert "no enterprise it declares can be admitted" in failure(subject_of(nobody), conformance.check_admission)


def test_check_admission_wants_translated_refusals(subject_of):
    capped = unit_plugin(portal_admit_enterprise=lambda unit, enterprise, approved_count: api.Admission(
        False, "Full.") if approved_count else None)
    assert "reads the same in Vietnamese and English ('Full.')" in failure(subject_of(capped),
                                                                            conformance.check_admission)


def test_check_extra_lines_wants_single_short_lines(subject_of):
    two_lines = unit_plugin(portal_pass_extra_lines=lambda unit, pass_: ["Dòng một\nDòng hai"])
    assert "must be one line" in failure(subject_of(two_lines), conformance.check_extra_lines)


def test_check_events_runs_the_listeners(subject_of):
    def broken(unit, pass_):
        raise RuntimeError("the webhook is down")

    with pytest.raises(RuntimeError, match="webhook"):
        conformance.check_events(subject_of(unit_plugin(portal_pass_issued=broken)))


@pytest.fixture
def package_plugin(tmp_path, monkeypatch):
    """Return a function writing a plugin package with ``source`` and ``po`` (its Vietnamese catalog)."""
    import importlib
    import sys

    def write(source: str, po: str | None) -> types.ModuleType:
        package = tmp_path / "portal_sample_package"
        (package / "translations" / "vi" / "LC_MESSAGES").mkdir(parents=True)
        (package / "__init__.py").write_text(source, encoding="utf-8")
        if po is not None:
            (package / "translations" / "vi" / "LC_MESSAGES" / "messages.po").write_text(po, encoding="utf-8")
        monkeypatch.syspath_prepend(str(tmp_path))
        importlib.invalidate_caches()
        monkeypatch.delitem(sys.modules, "portal_sample_package", raising=False)
        return importlib.import_module("portal_sample_package")

    return write


SOURCE = '''from portal.plugins import api, hookimpl

_ = api.lazy_gettext


@hookimpl
def portal_unit():
    return api.UnitDescriptor("sample", "SP", "Đơn vị mẫu", "Sample unit", "UBND", "PC")


@hookimpl
def portal_business_types():
    return [api.BusinessType("factory", "Nhà máy", "Factory")]


@hookimpl
def portal_sectors():
    return [api.Sector("food_supply", "Cung ứng thực phẩm", "Food supply")]


@hookimpl
def portal_pass_extra_lines(unit, pass_):
    return [_("Valid in %(place)s only.", place="Bình Chánh")]
'''


def test_check_catalog(subject_of, package_plugin):
    module = package_plugin(SOURCE, 'msgid "Valid in %(place)s only."\nmsgstr "Chỉ có giá trị tại %(place)s."\n')
    conformance.check_catalog(subject_of(module))


@pytest.mark.parametrize(("po", "expected"), [
    (None, "messages but no catalog"),
    ('msgid "Valid in %(place)s only."\nmsgstr ""\n', "no Vietnamese for 'Valid in %(place)s only.'"),
    ('msgid "Valid in %(place)s only."\nmsgstr "Chỉ có giá trị tại %(noi)s."\n', "must keep its placeholders"),
])
def test_check_catalog_failures(subject_of, package_plugin, po, expected):
    assert expected in failure(subject_of(package_plugin(SOURCE, po)), conformance.check_catalog)


def test_the_standard_workers_meet_every_shift_sector_and_business_type(pm):
    cases = conformance.standard_workers(pm.registry, "cugi")
    facts = [worker for _name, worker in cases]
    assert {worker.shift for worker in facts} == {None, *pm.registry.shifts}
    assert {worker.sector for worker in facts} == set(pm.registry.sectors["cugi"])
    assert {worker.business_type for worker in facts} == set(pm.registry.business_types["cugi"])
    eligible = [name for name, worker in cases if api.default_eligibility(worker, ON).eligible]
    assert eligible and len(eligible) < len(cases)
    assert ON == date(2021, 10, 1)
