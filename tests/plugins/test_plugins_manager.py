"""The plugin system: units by entry point or at run time, the start-up checks, and each unit's privacy."""
from __future__ import annotations

import importlib
import sys
import types
from dataclasses import replace
from datetime import date, time, timedelta

import pytest

from portal import create_app
from portal.plugins import ENTRY_POINT_GROUP, api, hookimpl
from portal.plugins.manager import DEFAULT_PLUGIN_NAME, PluginError, build_plugin_manager
from portal.plugins.registry import DuplicateDeclaration

FIVE_UNITS = {"district7", "cugi", "cangio", "industrial_zones", "hitech_park"}
D = date(2021, 10, 1)


class MarketUnit:
    """A sixth unit the core has never heard of: Thủ Đức wholesale market (chợ đầu mối), busy at night."""

    code = "thuduc_market"

    def __init__(self):
        self.asked: list[tuple[str, str]] = []

    @hookimpl
    def portal_unit(self):
        return api.UnitDescriptor(code=self.code, short_code="CDM", name_vi="Chợ đầu mối Thủ Đức",
                                  name_en="Thủ Đức wholesale market",
                                  authority_vi="Ban quản lý chợ đầu mối Thủ Đức",
                                  authority_en="Thủ Đức Wholesale Market Board")

    @hookimpl
    def portal_business_types(self):
        return [api.BusinessType("wholesale_trader", "Thương nhân bán buôn", "Wholesale trader"),
                api.BusinessType("porter", "Bốc xếp", "Porter")]

    @hookimpl
    def portal_sectors(self):
        return [api.Sector("fresh_produce", "Rau củ quả tươi", "Fresh produce")]

    @hookimpl
    def portal_commute_windows(self, unit, shift):
        self.asked.append(("windows", unit.code))
        return [api.CommuteWindow(time(23, 0), time(1, 0), "to_work"),
                api.CommuteWindow(time(5, 0), time(6, 30), "to_home")]

    @hookimpl
    def portal_admit_enterprise(self, unit, enterprise, approved_count):
        self.asked.append(("admit", unit.code))
        return api.Admission(False, "The market admits no one today.")

    @hookimpl
    def portal_worker_eligibility(self, unit, worker, on_date):
        self.asked.append(("eligibility", unit.code))
        if worker.negative_test is None or worker.negative_test.taken_on != on_date:
            return api.Eligibility(False, api.Basis.TEST_REQUIRED, "A negative test taken today is required.")
        return None

    @hookimpl
    def portal_pass_validity(self, unit, worker, eligibility, issued_on):
        return api.Validity(issued_on, issued_on)

    @hookimpl
    def portal_pass_issued(self, unit, pass_):
        self.asked.append(("issued", unit.code))
        return "ignored"


A_TRADER = api.WorkerFacts(date_of_birth=date(1980, 1, 1), sex="M", shift="office", job_title="Thương nhân",
                           doses=(api.Dose(1, "pfizer", "Pfizer", 2, D - timedelta(days=60)),
                                  api.Dose(2, "pfizer", "Pfizer", 2, D - timedelta(days=30))))


def vaccinated(**overrides) -> api.WorkerFacts:
    return replace(A_TRADER, **overrides)


AN_ENTERPRISE = api.EnterpriseFacts(tax_code="0301234562", business_type="essential_production",
                                    sector="food_supply", location=None, ward="Tân Phong", district="Quận 7")


def enterprise(**overrides) -> api.EnterpriseFacts:
    return replace(AN_ENTERPRISE, **overrides)


def module_plugin(name: str, **hookimpls) -> types.ModuleType:
    """Return a module named ``name`` holding ``hookimpls`` (as a plugin file would)."""
    module = types.ModuleType(name)
    for attribute, function in hookimpls.items():
        setattr(module, attribute, hookimpl(function))
    return module


def assert_market_unit_works(registry) -> None:
    """Check that the sixth unit's declarations and rules are in force, with no change to the core."""
    assert registry.unit("thuduc_market").short_code == "CDM"
    assert set(registry.business_types["thuduc_market"]) == {"wholesale_trader", "porter"}
    assert list(registry.sectors["thuduc_market"]) == ["fresh_produce"]

    to_work, to_home = registry.commute_windows("thuduc_market", "office")
    assert to_work.contains(time(23, 0, 0)) and to_work.contains(time(0, 30))
    assert to_work.contains(time(1, 0, 0))
    assert not to_work.contains(time(1, 0, 1)) and not to_work.contains(time(22, 59, 59))
    assert not to_home.contains(time(8, 0))

    refused = registry.eligibility("thuduc_market", vaccinated(), D)
    assert (refused.eligible, refused.basis) == (False, api.Basis.TEST_REQUIRED)
    tested = vaccinated(negative_test=api.NegativeTest("rapid", D))
    allowed = registry.eligibility("thuduc_market", tested, D)  # the plugin says None: the default answers
    assert (allowed.eligible, allowed.basis) == (True, api.Basis.VACCINATED)
    assert registry.validity("thuduc_market", tested, allowed, D) == api.Validity(D, D)
    refused = registry.admit("thuduc_market", enterprise(business_type="porter", sector="fresh_produce"), 0)
    assert (refused.admitted, refused.reason) == (False, "The market admits no one today.")


# -- loading --------------------------------------------------------------------


def test_five_units_load_through_entry_points(pm):
    assert FIVE_UNITS <= set(pm.registry.units)
    for code in FIVE_UNITS:
        plugin = pm.get_plugin(code)  # registered under its entry-point name
        assert plugin is not None and plugin.__name__ == f"portal_{code}"
        assert plugin.portal_unit().code == code
    distributions = {dist.project_name.replace("_", "-") for _plugin, dist in pm.list_plugin_distinfo()}
    assert {f"portal-unit-{code.replace('_', '-')}" for code in FIVE_UNITS} <= distributions
    short_codes = [unit.short_code for unit in pm.registry.units.values()]
    assert len(short_codes) == len(set(short_codes))
    assert {pm.registry.unit(code).short_code for code in FIVE_UNITS} == {"Q7", "CC", "CG", "KCN", "CNC"}


def test_entry_point_group_is_the_one_constant():
    assert ENTRY_POINT_GROUP == "portal.units"
    assert api.ENTRY_POINT_GROUP is ENTRY_POINT_GROUP


def test_app_carries_the_manager(app):
    manager = app.extensions["portal.plugins"]
    assert manager.get_plugin(DEFAULT_PLUGIN_NAME) is not None
    assert FIVE_UNITS <= set(manager.registry.units)


def test_hook_portal_unit_sixth_unit_registered_at_run_time(app):
    from portal.extensions import db
    from portal.units.services import unit_row

    manager = app.extensions["portal.plugins"]
    plugin = MarketUnit()
    before = manager.registry
    manager.register(plugin)
    try:
        assert manager.registry is not before  # registering invalidates the registry
        assert_market_unit_works(manager.registry)
        with app.app_context():
            row = unit_row(db.session, manager.registry, "thuduc_market")
            db.session.commit()
            assert (row.id is not None, row.short_code, row.name_vi) == (True, "CDM", "Chợ đầu mối Thủ Đức")
            assert unit_row(db.session, manager.registry, "district7").name_vi == "Quận 7"
    finally:
        manager.unregister(plugin)
    assert "thuduc_market" not in manager.registry.units


class TestSixthUnitFromConfig:
    plugin = MarketUnit()

    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "PORTAL_EXTRA_PLUGINS": (self.plugin,)}

    def test_hook_portal_unit_from_portal_extra_plugins(self, app):
        from portal.extensions import db
        from portal.units.services import unit_row

        registry = app.extensions["portal.plugins"].registry
        assert_market_unit_works(registry)
        assert FIVE_UNITS <= set(registry.units)
        with app.app_context():
            row = unit_row(db.session, registry, "thuduc_market")
            assert row.authority_en == "Thủ Đức Wholesale Market Board"


def test_extra_plugin_by_dotted_module_name(tmp_path, monkeypatch):
    (tmp_path / "portal_test_night_shift.py").write_text(
        "from datetime import time\n"
        "from portal.plugins import api, hookimpl\n\n\n"
        "@hookimpl\n"
        "def portal_shifts():\n"
        "    return [api.Shift('night_market', 'Ca chợ đêm', 'Night market shift', time(1), time(7),"
        " aliases=('cho dem',))]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    try:
        pm = build_plugin_manager(extra=["portal_test_night_shift"])
        night = pm.registry.shift_for("Chợ đêm")
        assert (night.code, night.start, night.end) == ("night_market", time(1), time(7))
        assert pm.registry.shift_for("ca 3").code == "shift3"
    finally:
        sys.modules.pop("portal_test_night_shift", None)


# -- start-up checks --------------------------------------------------------------


def test_misspelled_hookimpl_stops_build_plugin_manager():
    typo = module_plugin("portal_typo_unit", portal_bussiness_types=lambda: [])  # noqa: PIE807
    with pytest.raises(PluginError) as excinfo:
        build_plugin_manager(extra=[typo])
    message = str(excinfo.value)
    assert "'portal_typo_unit'" in message
    assert "'portal_bussiness_types'" in message
    assert "Did you mean 'portal_business_types'?" in message


def test_misspelled_hookimpl_stops_create_app(app_config):
    typo = module_plugin("portal_typo_zone", portal_comute_windows=lambda unit, shift: None)
    with pytest.raises(PluginError, match=r"'portal_typo_zone'.*Did you mean 'portal_commute_windows'\?"):
        create_app({**app_config, "PORTAL_EXTRA_PLUGINS": (typo,)})


def test_hookimpl_with_a_wrong_argument_stops_start_up():
    wrong = module_plugin("portal_wrong_args",
                          portal_admit_enterprise=lambda unit, company, approved_count: None)
    with pytest.raises(PluginError, match="portal_wrong_args.*company"):
        build_plugin_manager(extra=[wrong])


def test_optional_hookimpl_outside_the_specs_is_allowed():
    module = types.ModuleType("portal_optional")
    module.portal_future_hook = hookimpl(optionalhook=True)(lambda: None)
    assert build_plugin_manager(extra=[module]).is_registered(module)


def test_disabled_plugin_is_left_out():
    pm = build_plugin_manager(disabled=("cangio",))
    assert "cangio" not in pm.registry.units
    assert FIVE_UNITS - {"cangio"} <= set(pm.registry.units)
    assert pm.is_blocked("cangio")


class TestDisabledFromConfig:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "PORTAL_DISABLED_PLUGINS": ("cangio",)}

    def test_portal_disabled_plugins_config(self, app):
        units = set(app.extensions["portal.plugins"].registry.units)
        assert "cangio" not in units and "cugi" in units


def test_portal_disabled_plugins_environment(app_config, monkeypatch):
    monkeypatch.setenv("PORTAL_DISABLED_PLUGINS", "cangio, hitech_park")
    app = create_app(app_config)
    units = set(app.extensions["portal.plugins"].registry.units)
    assert units.isdisjoint({"cangio", "hitech_park"}) and {"district7", "cugi", "industrial_zones"} <= units


def test_builtin_rules_cannot_be_disabled(app_config):
    with pytest.raises(PluginError, match="cannot be disabled"):
        build_plugin_manager(disabled=(DEFAULT_PLUGIN_NAME,))
    with pytest.raises(PluginError, match="cannot be disabled"):
        create_app({**app_config, "PORTAL_DISABLED_PLUGINS": ("cugi", DEFAULT_PLUGIN_NAME)})


def test_duplicate_unit_code_is_rejected():
    impostor = module_plugin("portal_impostor", portal_unit=lambda: api.UnitDescriptor(
        "district7", "Q7B", "Quận 7 (bản sao)", "District 7 (copy)", "?", "?"))
    with pytest.raises(DuplicateDeclaration, match=r"'district7'.*'portal_impostor'"):
        build_plugin_manager(extra=[impostor])


def test_duplicate_short_code_is_rejected():
    impostor = module_plugin("portal_q7_lookalike", portal_unit=lambda: api.UnitDescriptor(
        "district7b", "Q7", "Quận 7B", "District 7B", "?", "?"))
    with pytest.raises(PluginError, match="short code"):  # DuplicateDeclaration is a PluginError
        build_plugin_manager(extra=[impostor])


def test_hook_portal_business_types_duplicate_code_within_a_unit_is_rejected(pm):
    twice = MarketUnit()
    twice.portal_business_types = hookimpl(lambda: [api.BusinessType("porter", "Bốc xếp", "Porter"),
                                                    api.BusinessType("porter", "Bốc vác", "Carrier")])
    pm.register(twice)
    try:
        with pytest.raises(DuplicateDeclaration, match=r"Business type code 'porter'.*thuduc_market"):
            pm.registry  # noqa: B018
    finally:
        pm.unregister(twice)
    assert "thuduc_market" not in pm.registry.units


def test_hook_portal_business_types_same_code_in_two_units_is_fine(pm):
    assert "cooperative" in pm.registry.business_types["cugi"]
    assert "cooperative" in pm.registry.business_types["cangio"]


def test_hook_portal_shifts_duplicate_code_is_rejected():
    again = module_plugin("portal_second_shift3", portal_shifts=lambda: [
        api.Shift("shift3", "Ca 3", "Shift 3", time(23), time(7))])
    with pytest.raises(DuplicateDeclaration, match="Shift code 'shift3'"):
        build_plugin_manager(extra=[again])


# -- a unit plugin is asked only about its own unit --------------------------------


def test_hook_portal_admit_enterprise_cap_of_district7_does_not_apply_to_cugi(pm):
    assert pm.registry.admit("district7", enterprise(sector="food_processing"), 150).admitted is False
    cooperative = enterprise(business_type="cooperative", sector="food_supply")
    assert pm.registry.admit("cugi", cooperative, 150).admitted is True
    assert pm.registry.admit("cugi", cooperative, 10_000).admitted is True


def test_hook_portal_worker_eligibility_cangio_test_rule_does_not_apply_to_cugi(pm):
    tourism = vaccinated(sector="local_tourism")
    assert pm.registry.eligibility("cangio", tourism, D).basis == api.Basis.TEST_REQUIRED
    assert pm.registry.eligibility("cugi", tourism, D).basis == api.Basis.VACCINATED


def test_hook_portal_commute_windows_zone_shifts_do_not_apply_to_district7(pm):
    assert tuple(pm.registry.commute_windows("district7", "shift3")) == api.DEFAULT_WINDOWS
    assert tuple(pm.registry.commute_windows("industrial_zones", "shift3")) != api.DEFAULT_WINDOWS


def test_hook_portal_pass_extra_lines_of_cangio_are_not_printed_for_cugi(pm):
    pass_ = api.PassFacts("CC-000001", 1, "cugi", "0312345673", D, D)
    assert pm.registry.extra_lines("cugi", pass_) == []
    assert pm.registry.extra_lines("cangio", pass_) == ["Valid for travel within Cần Giờ District only."]


def test_unit_plugin_is_not_asked_about_other_units(pm):
    market = MarketUnit()
    pm.register(market)
    try:
        registry = pm.registry
        assert {unit for _question, unit in market.asked} == {"thuduc_market"}  # its windows, checked at start-up
        market.asked.clear()
        registry.admit("district7", enterprise(), 0)
        registry.eligibility("cugi", vaccinated(), D)
        registry.commute_windows("hitech_park", "shift1")
        registry.notify("cangio", "portal_pass_issued", pass_=api.PassFacts("CG-1", 1, "cangio", "0", D, D))
        assert market.asked == []
        registry.admit("thuduc_market", enterprise(business_type="porter", sector="fresh_produce"), 0)
        own_pass = api.PassFacts("CDM-1", 1, "thuduc_market", "0", D, D)
        registry.notify("thuduc_market", "portal_pass_issued", pass_=own_pass)
        assert market.asked == [("admit", "thuduc_market"), ("issued", "thuduc_market")]
    finally:
        pm.unregister(market)


def test_hook_portal_pass_extra_lines_of_a_non_unit_plugin_reach_every_unit(pm):
    footer = module_plugin("portal_footer",
                           portal_pass_extra_lines=lambda unit, pass_: [f"1022 — {unit.code}"])
    pm.register(footer)
    try:
        pass_ = api.PassFacts("Q7-000001", 1, "district7", "0301234562", D, D)
        assert pm.registry.extra_lines("district7", pass_) == ["1022 — district7"]
        assert sorted(pm.registry.extra_lines("cangio", pass_)) == [
            "1022 — cangio", "Valid for travel within Cần Giờ District only."]
    finally:
        pm.unregister(footer)


def test_hook_portal_pass_issued_results_are_ignored(pm):
    market = MarketUnit()
    pm.register(market)
    try:
        pm.registry  # noqa: B018  (built: the unit's windows are checked now)
        market.asked.clear()
        pass_ = api.PassFacts("CDM-000001", 1, "thuduc_market", "0301234562", D, D)
        assert pm.registry.notify("thuduc_market", "portal_pass_issued", pass_=pass_) is None
        assert market.asked == [("issued", "thuduc_market")]
    finally:
        pm.unregister(market)


def test_hook_portal_pass_revoked_and_enterprise_approved_reach_the_unit(pm):
    heard = []
    listener = module_plugin(
        "portal_listener",
        portal_pass_revoked=lambda unit, pass_, reason: heard.append(
            ("revoked", unit.code, pass_.serial, reason)),
        portal_enterprise_approved=lambda unit, enterprise: heard.append(
            ("approved", unit.code, enterprise.tax_code)),
    )
    pm.register(listener)
    try:
        revoked = api.PassFacts("CC-000009", 2, "cugi", "0312345673", D, D)
        pm.registry.notify("cugi", "portal_pass_revoked", pass_=revoked, reason="Nghỉ việc")
        pm.registry.notify("district7", "portal_enterprise_approved", enterprise=enterprise())
    finally:
        pm.unregister(listener)
    assert heard == [("revoked", "cugi", "CC-000009", "Nghỉ việc"), ("approved", "district7", "0301234562")]


def test_unknown_unit_is_a_key_error(pm):
    with pytest.raises(KeyError):
        pm.registry.eligibility("district99", vaccinated(), D)
