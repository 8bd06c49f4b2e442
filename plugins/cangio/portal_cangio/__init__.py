"""Cần Giờ District (huyện Cần Giờ) in the September 2021 pilot: food supply, farm inputs, local tourism.

As in Củ Chi, only those three sectors join (they are the only ones it declares; the core refuses
any other). Cần Giờ also asks local tourism staff for a recent negative test, and its passes are
good for travel within the district only.
"""
from datetime import date, timedelta

from portal.plugins import api, hookimpl

_ = api.lazy_gettext

UNIT = api.UnitDescriptor(
    code="cangio",
    short_code="CG",
    name_vi="Huyện Cần Giờ",
    name_en="Cần Giờ District",
    authority_vi="Ủy ban nhân dân huyện Cần Giờ",
    authority_en="Cần Giờ District People's Committee",
    travel_note_vi="Doanh nghiệp ngoài các lĩnh vực cung ứng lương thực, thực phẩm, vật tư và dịch vụ "
                   "nông nghiệp, du lịch địa phương tiếp tục đăng ký giấy đi đường.",
    travel_note_en="Enterprises outside food supply, agricultural inputs and services, and local tourism "
                   "keep applying for travel permits (giấy đi đường).",
)

BUSINESS_TYPES = [
    api.BusinessType("producer", "Cơ sở sản xuất, nuôi trồng", "Producer or farm"),
    api.BusinessType("trader", "Cơ sở phân phối, kinh doanh", "Distributor or trader"),
    api.BusinessType("service_provider", "Cơ sở cung cấp dịch vụ", "Service provider"),
    api.BusinessType("cooperative", "Hợp tác xã", "Cooperative"),
]

TOURISM_SECTOR = "local_tourism"

SECTORS = [
    api.Sector("food_supply", "Cung ứng lương thực, thực phẩm", "Food supply"),
    api.Sector("agri_inputs", "Vật tư nông nghiệp và dịch vụ nông nghiệp",
               "Agricultural inputs and services"),
    api.Sector(TOURISM_SECTOR, "Du lịch địa phương", "Local tourism"),
]

#: Local days a negative test covers, the day it is dated included (72 hours from that day's 00:00).
TEST_COVERS_DAYS = 3


def last_covered_day(taken_on: date) -> date:
    """Return the last local day a negative test dated ``taken_on`` covers.

    A test carries a local date, not a time, so it counts as taken at 00:00 local that day: its
    72 hours end at 00:00 three days later, so a test dated D covers D, D+1 and D+2 and not D+3.
    Counting from the start of the day never stretches a test past 72 hours from the swab.
    """
    return taken_on + timedelta(days=TEST_COVERS_DAYS - 1)


@hookimpl
def portal_unit():
    return UNIT


@hookimpl
def portal_business_types():
    return list(BUSINESS_TYPES)


@hookimpl
def portal_sectors():
    return list(SECTORS)


@hookimpl
def portal_worker_eligibility(unit, worker, on_date):
    """Ask local tourism staff, eligible by the default rule, for a negative test covering ``on_date``.

    Eligibility then lasts until the test's last covered day (see :func:`last_covered_day`), so the
    default pass validity, never past ``until``, ends with the test. Other staff: the default rule.
    """
    if worker.sector != TOURISM_SECTOR:
        return None
    base = api.default_eligibility(worker, on_date)
    if not base.eligible:
        return None
    test = worker.negative_test
    if test is None:
        return api.Eligibility(False, api.Basis.TEST_REQUIRED, _(
            "Local tourism staff also need a negative COVID-19 test taken within the last 72 hours."
        ))
    covered_until = last_covered_day(test.taken_on)
    if on_date > covered_until:
        return api.Eligibility(False, api.Basis.TEST_REQUIRED, _(
            "The negative test of %(taken)s covered up to %(until)s; local tourism staff need a test "
            "taken within the last 72 hours.",
            taken=api.format_date(test.taken_on), until=api.format_date(covered_until),
        ))
    if test.taken_on > on_date:
        # A test dated after the day asked about does not cover it; it will from its own date.
        still_eligible = base.until is None or test.taken_on <= base.until
        return api.Eligibility(False, api.Basis.TEST_REQUIRED, _(
            "The negative test is dated %(taken)s, after %(day)s.",
            taken=api.format_date(test.taken_on), day=api.format_date(on_date),
        ), since=test.taken_on if still_eligible else None)
    until = min(covered_until, base.until) if base.until else covered_until
    return api.Eligibility(True, base.basis, _(
        "%(basis)s Negative test of %(taken)s, valid up to %(until)s.",
        basis=base.reason, taken=api.format_date(test.taken_on), until=api.format_date(covered_until),
    ), since=max(base.since or test.taken_on, test.taken_on), until=until)


@hookimpl
def portal_pass_extra_lines(unit, pass_):
    return [_("Valid for travel within Cần Giờ District only.")]
