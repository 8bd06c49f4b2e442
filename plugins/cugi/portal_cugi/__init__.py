"""Củ Chi District (huyện Củ Chi) in the September 2021 pilot: food supply, farm inputs, local tourism.

Only enterprises of those three sectors join the pilot: they are the only sectors it declares, and
the core refuses any other. Every other enterprise keeps applying for travel permits (giấy đi
đường). Workers follow the city's default rule.
"""
from portal.plugins import api, hookimpl

UNIT = api.UnitDescriptor(
    code="cugi",
    short_code="CC",
    name_vi="Huyện Củ Chi",
    name_en="Củ Chi District",
    authority_vi="Ủy ban nhân dân huyện Củ Chi",
    authority_en="Củ Chi District People's Committee",
    travel_note_vi="Doanh nghiệp ngoài các lĩnh vực cung ứng lương thực, thực phẩm, vật tư và dịch vụ "
                   "nông nghiệp, du lịch địa phương tiếp tục đăng ký giấy đi đường.",
    travel_note_en="Enterprises outside food supply, agricultural inputs and services, and local tourism "
                   "keep applying for travel permits (giấy đi đường).",
)

BUSINESS_TYPES = [
    api.BusinessType("producer", "Cơ sở sản xuất", "Producer"),
    api.BusinessType("trader", "Cơ sở phân phối, kinh doanh", "Distributor or trader"),
    api.BusinessType("service_provider", "Cơ sở cung cấp dịch vụ", "Service provider"),
    api.BusinessType("cooperative", "Hợp tác xã", "Cooperative"),
]

SECTORS = [
    api.Sector("food_supply", "Cung ứng lương thực, thực phẩm", "Food supply"),
    api.Sector("agri_inputs", "Vật tư nông nghiệp và dịch vụ nông nghiệp",
               "Agricultural inputs and services"),
    api.Sector("local_tourism", "Du lịch địa phương", "Local tourism"),
]


@hookimpl
def portal_unit():
    return UNIT


@hookimpl
def portal_business_types():
    return list(BUSINESS_TYPES)


@hookimpl
def portal_sectors():
    return list(SECTORS)
