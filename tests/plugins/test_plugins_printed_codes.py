"""A unit's short code is printed on its cards: start-up and ``portal units sync`` refuse to change it."""
from __future__ import annotations

import types
from dataclasses import replace

import portal_cugi
import pytest
from sqlalchemy import select

from portal import create_app
from portal.plugins import api, hookimpl
from portal.plugins.printed_codes import PrintedCodeChanged
from portal.testing.fixtures import make_enterprise, make_worker
from portal.units.models import PilotUnit
from portal.verify.testing import make_pass


def cugi_declaring(**changes) -> types.ModuleType:
    """Return Củ Chi's plugin as it would be after someone edited its descriptor."""
    module = types.ModuleType("portal_cugi_edited")
    module.portal_unit = hookimpl(lambda: replace(portal_cugi.UNIT, **changes))
    module.portal_business_types = hookimpl(lambda: list(portal_cugi.BUSINESS_TYPES))
    module.portal_sectors = hookimpl(lambda: list(portal_cugi.SECTORS))
    return module


class MarketUnit:
    """A sixth unit, installed for a while."""

    code = "thuduc_market"

    @hookimpl
    def portal_unit(self):
        return api.UnitDescriptor(self.code, "CDM", "Chợ đầu mối Thủ Đức", "Thủ Đức wholesale market",
                                  "Ban quản lý chợ", "Market board")

    @hookimpl
    def portal_business_types(self):
        return [api.BusinessType("wholesale_trader", "Thương nhân bán buôn", "Wholesale trader")]

    @hookimpl
    def portal_sectors(self):
        return [api.Sector("fresh_produce", "Rau củ quả tươi", "Fresh produce")]


def issue_a_card(app, worker_id: int) -> str:
    from portal.extensions import db
    from portal.workers.models import Worker

    with app.app_context():
        card = make_pass(db.session, db.session.get(Worker, worker_id))
        db.session.commit()
        return card.serial


def unit_short_code(app, code: str) -> str | None:
    from portal.extensions import db

    with app.app_context():
        return db.session.scalar(select(PilotUnit.short_code).where(PilotUnit.code == code))


# -- start-up ----------------------------------------------------------------------


def test_changing_the_short_code_of_a_unit_with_cards_stops_start_up(app, app_config, world):
    serial = issue_a_card(app, world.worker_b)  # a Củ Chi worker
    assert serial.startswith("CC-")
    edited = {**app_config, "PORTAL_DISABLED_PLUGINS": ("cugi",), "PORTAL_EXTRA_PLUGINS": (cugi_declaring(
        short_code="CCH"),)}
    with pytest.raises(PrintedCodeChanged) as refused:
        create_app(edited)
    message = str(refused.value)
    assert "Unit 'cugi' has issued 1 card whose serials and QR codes carry its short code 'CC'" in message
    assert "its plugin ('portal_cugi_edited') now declares short code 'CCH'" in message
    assert "put short_code='CC' back in the plugin's portal_unit()" in message
    assert unit_short_code(app, "cugi") == "CC"


def test_a_unit_without_cards_may_still_change_its_short_code(app, app_config, world, runner):
    issue_a_card(app, world.worker_a)  # District 7 has cards; Củ Chi has none
    edited = create_app({**app_config, "PORTAL_DISABLED_PLUGINS": ("cugi",),
                         "PORTAL_EXTRA_PLUGINS": (cugi_declaring(short_code="CCH"),)})
    result = edited.test_cli_runner().invoke(args=["units", "sync"])
    assert result.exit_code == 0, result.output
    assert unit_short_code(app, "cugi") == "CCH"


class TestAUnitThatLeaves:
    market = MarketUnit()

    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "PORTAL_EXTRA_PLUGINS": (self.market,)}

    @pytest.fixture
    def market_card(self, app):
        from portal.extensions import db

        registry = app.extensions["portal.plugins"].registry
        with app.app_context():
            enterprise = make_enterprise(db.session, registry, "thuduc_market", "Vựa rau Bình Điền", "0301234562")
            worker = make_worker(db.session, enterprise, citizen_id="079090001234")
            db.session.commit()
            worker_id = worker.id
        return issue_a_card(app, worker_id)

    def test_uninstalling_a_unit_with_cards_stops_start_up_until_it_is_disabled(self, app_config, market_card):
        without = {**app_config, "PORTAL_EXTRA_PLUGINS": ()}
        with pytest.raises(PrintedCodeChanged) as refused:
            create_app(without)
        message = str(refused.value)
        assert "Unit 'thuduc_market' has issued 1 card (short code 'CDM'), but no installed plugin brings it" in message
        assert "PORTAL_DISABLED_PLUGINS=thuduc_market" in message

        disabled = create_app({**without, "PORTAL_DISABLED_PLUGINS": ("thuduc_market",)})
        assert "thuduc_market" not in disabled.extensions["portal.plugins"].registry.units

    def test_renaming_a_unit_with_cards_stops_start_up(self, app_config, market_card):
        renamed = MarketUnit()
        renamed.code = "binh_dien_market"
        with pytest.raises(PrintedCodeChanged) as refused:
            create_app({**app_config, "PORTAL_EXTRA_PLUGINS": (renamed,)})
        message = str(refused.value)
        assert "Short code 'CDM' is printed on 1 card of unit 'thuduc_market'" in message
        assert "put code='thuduc_market' back" in message

    def test_the_same_plugin_starts(self, app_config, market_card):
        assert "thuduc_market" in create_app(app_config).extensions["portal.plugins"].registry.units


def test_a_database_without_tables_starts(app_config, tmp_path):
    app = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'new.sqlite3'}",
                      "PORTAL_DISABLED_PLUGINS": ("cugi",), "PORTAL_EXTRA_PLUGINS": (cugi_declaring(
                          short_code="CCH"),)})
    assert app.extensions["portal.plugins"].registry.unit("cugi").short_code == "CCH"


def test_a_database_that_cannot_be_reached_starts_and_says_so(app_config, tmp_path, caplog):
    unreachable = f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'portal.sqlite3'}"
    create_app({**app_config, "SQLALCHEMY_DATABASE_URI": unreachable})
    assert "Could not check the units' printed short codes at start-up" in caplog.text


# -- portal units sync ---------------------------------------------------------------


def test_units_sync_refuses_to_overwrite_a_printed_short_code(app, world, runner):
    issue_a_card(app, world.worker_b)
    # The app started with Củ Chi as "CC"; now its plugin is replaced while it runs.
    manager = app.extensions["portal.plugins"]
    manager.unregister(name="cugi")
    manager.register(cugi_declaring(short_code="CCH"))
    result = runner.invoke(args=["units", "sync"])
    assert result.exit_code == 1
    assert "Unit 'cugi' has issued 1 card" in result.output and "put short_code='CC' back" in result.output
    assert unit_short_code(app, "cugi") == "CC"


def test_units_sync_writes_the_units(app, runner):
    result = runner.invoke(args=["units", "sync"])
    assert result.exit_code == 0, result.output
    assert unit_short_code(app, "hitech_park") == "CNC"
