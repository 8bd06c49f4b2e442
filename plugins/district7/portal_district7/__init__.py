"""District 7 (Quận 7): 150 essential production and trading businesses in the September 2021 pilot.

Workers follow the city's default rule; the unit only caps how many enterprises it admits.
"""
from portal.plugins import api, hookimpl

_ = api.lazy_gettext

#: The most enterprises District 7 admits into the pilot: the 150th is admitted, the 151st refused.
ENTERPRISE_CAP = 150

UNIT = api.UnitDescriptor(
    code="district7",
    short_code="Q7",
    name_vi="Quận 7",
    name_en="District 7",
    authority_vi="Ủy ban nhân dân Quận 7",
    authority_en="District 7 People's Committee",
    travel_note_vi="Doanh nghiệp ngoài 150 doanh nghiệp thí điểm tiếp tục đăng ký giấy đi đường "
                   "cho người lao động.",
    travel_note_en="Enterprises outside the 150 in the pilot keep applying for travel permits "
                   "(giấy đi đường) for their workers.",
)

BUSINESS_TYPES = [
    api.BusinessType("essential_production", "Sản xuất hàng hóa thiết yếu", "Essential goods production"),
    api.BusinessType("essential_trading", "Kinh doanh hàng hóa thiết yếu", "Essential goods trading"),
]

SECTORS = [
    api.Sector("food_processing", "Chế biến lương thực, thực phẩm", "Food processing"),
    api.Sector("food_retail", "Kinh doanh lương thực, thực phẩm, siêu thị",
               "Food and grocery trading, supermarkets"),
    api.Sector("pharma_medical", "Dược phẩm, thiết bị và vật tư y tế",
               "Pharmaceuticals and medical supplies"),
    api.Sector("logistics", "Vận tải, kho bãi, logistics", "Logistics and warehousing"),
    api.Sector("utilities", "Điện, nước, viễn thông", "Utilities (power, water, telecoms)"),
    api.Sector("essential_manufacturing", "Sản xuất hàng hóa thiết yếu khác",
               "Other essential manufacturing"),
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


@hookimpl
def portal_admit_enterprise(unit, enterprise, approved_count):
    """Refuse an enterprise once 150 others are approved; below the cap, leave it to the default."""
    if approved_count >= ENTERPRISE_CAP:
        return api.Admission(False, _(
            "District 7 has already approved its %(cap)s pilot enterprises; "
            "apply for a travel permit (giấy đi đường) instead.",
            cap=ENTERPRISE_CAP,
        ))
    return None
