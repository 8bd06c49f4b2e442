"""The core refuses what a unit does not declare before its admission rule is asked."""
from __future__ import annotations

import re
from dataclasses import replace

import pytest

from portal.plugins import api, hookimpl
from portal.plugins.manager import build_plugin_manager
from portal.testing.fixtures import make_enterprise


class ZoneUnit:
    """A unit with one zone and a rule that records each question."""

    def __init__(self):
        self.asked = []

    @hookimpl
    def portal_unit(self):
        return api.UnitDescriptor("test_zone", "TZ", "Khu thử", "Test zone", "Ban quản lý", "Board")

    @hookimpl
    def portal_business_types(self):
        return [api.BusinessType("factory", "Nhà máy", "Factory")]

    @hookimpl
    def portal_sectors(self):
        return [api.Sector("electronics", "Điện tử", "Electronics")]

    @hookimpl
    def portal_locations(self):
        return [api.Location("zone_a", "Khu A", "Zone A")]

    @hookimpl
    def portal_admit_enterprise(self, unit, enterprise, approved_count):
        self.asked.append(enterprise)
        return None


DECLARED = api.EnterpriseFacts("0301234562", "factory", "electronics", "zone_a", "Tân Thuận Đông", "Quận 7")


@pytest.fixture
def zone():
    return ZoneUnit()


@pytest.fixture
def registry(zone):
    return build_plugin_manager(extra=[zone]).registry


def test_hook_portal_admit_enterprise_is_asked_about_declared_choices(registry, zone):
    assert registry.admit("test_zone", DECLARED, 0) == api.Admission(True)
    assert zone.asked == [DECLARED]


@pytest.mark.parametrize(("change", "message"), [
    ({"business_type": "bakery"},
     "The unit no longer lists the business type “bakery” that this enterprise declared, so it cannot be approved."),
    ({"sector": "garments"},
     "The unit no longer lists the sector “garments” that this enterprise declared, so it cannot be approved."),
    ({"location": "zone_b"},
     "The unit admits only enterprises inside one of its zones or parks, and “zone_b” is not one of them; "
     "apply for a travel permit (giấy đi đường) instead."),
    ({"location": None},
     "The unit admits only enterprises inside one of its zones or parks, and this enterprise gave none; "
     "apply for a travel permit (giấy đi đường) instead."),
])
def test_hook_portal_admit_enterprise_is_not_asked_about_undeclared_choices(registry, zone, change, message):
    admission = registry.admit("test_zone", replace(DECLARED, **change), 0)
    assert (admission.admitted, str(admission.reason)) == (False, message)
    assert zone.asked == []


def test_a_location_is_ignored_where_the_unit_lists_none(pm):
    facts = api.EnterpriseFacts("0301234562", "essential_production", "food_processing", "tan_thuan", "", "")
    assert pm.registry.admit("district7", facts, 0) == api.Admission(True)


def test_the_refusals_read_in_vietnamese(app, registry):
    refusal = registry.admit("test_zone", replace(DECLARED, sector="garments"), 0).reason
    with app.test_request_context():
        assert str(refusal) == ("Đơn vị thí điểm không còn ngành, lĩnh vực “garments” mà doanh nghiệp đã khai "
                                "trong danh mục, nên chưa thể duyệt doanh nghiệp này.")


def test_an_official_cannot_approve_a_sector_the_unit_stopped_declaring(app, client, auth, world):
    from portal.enterprises.models import Enterprise
    from portal.extensions import db

    registry = app.extensions["portal.plugins"].registry
    with app.app_context():
        enterprise = make_enterprise(db.session, registry, "cugi", "Công ty May Củ Chi", "0322223336",
                                     status="pending")
        enterprise.sector = "garments"  # chosen from an older list of Củ Chi's sectors
        db.session.commit()
        enterprise_id = enterprise.id
    auth.login(world.official_y)
    page = client.get(f"/enterprises/{enterprise_id}").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    response = client.submit(f"/enterprises/{enterprise_id}/decision",
                             {"action": "approve", "reason": "", "version": version}, follow_redirects=True)
    assert ("Đơn vị thí điểm không còn ngành, lĩnh vực “garments” mà doanh nghiệp đã khai trong danh mục"
            in response.get_data(as_text=True))
    with app.app_context():
        assert db.session.get(Enterprise, enterprise_id).status == "pending"
