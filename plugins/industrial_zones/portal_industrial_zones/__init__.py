"""HCMC's export-processing and industrial zones (khu chế xuất, khu công nghiệp, HEPZA) in the 2021 pilot.

An enterprise joins only from inside a listed zone (its declared locations: the core refuses any
other). Three-shift factories commute around each shift change rather than in the default morning
and evening windows, so the zones' windows follow the shift.
"""
from portal.plugins import api, hookimpl

UNIT = api.UnitDescriptor(
    code="industrial_zones",
    short_code="KCN",
    name_vi="Các khu chế xuất, khu công nghiệp TP.HCM (HEPZA)",
    name_en="HCMC export-processing and industrial zones (HEPZA)",
    authority_vi="Ban quản lý các khu chế xuất và công nghiệp TP.HCM (HEPZA)",
    authority_en="Export Processing and Industrial Zones Authority (HEPZA)",
    travel_note_vi="Doanh nghiệp nằm ngoài các khu chế xuất, khu công nghiệp do HEPZA quản lý "
                   "tiếp tục đăng ký giấy đi đường.",
    travel_note_en="Enterprises outside the zones HEPZA manages keep applying for travel permits "
                   "(giấy đi đường).",
)

BUSINESS_TYPES = [
    api.BusinessType("export_processing", "Doanh nghiệp chế xuất", "Export-processing manufacturer"),
    api.BusinessType("industrial_production", "Sản xuất công nghiệp", "Industrial production"),
    api.BusinessType("zone_services", "Dịch vụ, logistics trong khu", "Services and logistics in the zone"),
]

SECTORS = [
    api.Sector("electronics", "Điện tử", "Electronics"),
    api.Sector("textiles_garments", "Dệt may", "Textiles and garments"),
    api.Sector("footwear", "Da giày", "Footwear and leather"),
    api.Sector("food_processing", "Chế biến thực phẩm", "Food processing"),
    api.Sector("mechanical_engineering", "Cơ khí chế tạo", "Mechanical engineering"),
    api.Sector("chemicals_plastics", "Hóa chất, nhựa, cao su", "Chemicals, plastics and rubber"),
    api.Sector("pharmaceuticals", "Dược phẩm, thiết bị y tế", "Pharmaceuticals and medical devices"),
    api.Sector("packaging_printing", "Bao bì, in ấn", "Packaging and printing"),
    api.Sector("logistics", "Logistics, kho bãi", "Logistics and warehousing"),
]

LOCATIONS = [
    api.Location("tan_thuan", "Khu chế xuất Tân Thuận", "Tân Thuận Export Processing Zone"),
    api.Location("linh_trung_1", "Khu chế xuất Linh Trung I", "Linh Trung I Export Processing Zone"),
    api.Location("linh_trung_2", "Khu chế xuất Linh Trung II", "Linh Trung II Export Processing Zone"),
    api.Location("hiep_phuoc", "Khu công nghiệp Hiệp Phước", "Hiệp Phước Industrial Zone"),
    api.Location("tan_binh", "Khu công nghiệp Tân Bình", "Tân Bình Industrial Zone"),
    api.Location("tan_tao", "Khu công nghiệp Tân Tạo", "Tân Tạo Industrial Zone"),
    api.Location("vinh_loc", "Khu công nghiệp Vĩnh Lộc", "Vĩnh Lộc Industrial Zone"),
    api.Location("le_minh_xuan", "Khu công nghiệp Lê Minh Xuân", "Lê Minh Xuân Industrial Zone"),
    api.Location("le_minh_xuan_expansion", "Khu công nghiệp Lê Minh Xuân mở rộng",
                 "Lê Minh Xuân Industrial Zone (expansion)"),
    api.Location("tan_thoi_hiep", "Khu công nghiệp Tân Thới Hiệp", "Tân Thới Hiệp Industrial Zone"),
    api.Location("tay_bac_cu_chi", "Khu công nghiệp Tây Bắc Củ Chi", "Tây Bắc Củ Chi Industrial Zone"),
    api.Location("cat_lai", "Khu công nghiệp Cát Lái", "Cát Lái Industrial Zone"),
    api.Location("binh_chieu", "Khu công nghiệp Bình Chiểu", "Bình Chiểu Industrial Zone"),
    api.Location("dong_nam", "Khu công nghiệp Đông Nam", "Đông Nam Industrial Zone"),
    api.Location("phong_phu", "Khu công nghiệp Phong Phú", "Phong Phú Industrial Zone"),
    api.Location("tan_phu_trung", "Khu công nghiệp Tân Phú Trung", "Tân Phú Trung Industrial Zone"),
    api.Location("co_khi_o_to", "Khu công nghiệp Cơ khí ô tô TP.HCM",
                 "HCMC Automotive Engineering Industrial Zone"),
    api.Location("phu_huu", "Khu công nghiệp Phú Hữu", "Phú Hữu Industrial Zone"),
]

#: Shift codes whose workers commute around the shift changes (see api.shift_change_windows).
THREE_SHIFTS = ("shift1", "shift2", "shift3")


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
def portal_locations():
    return list(LOCATIONS)


@hookimpl
def portal_windows_follow_shift(unit):
    return True


@hookimpl
def portal_commute_windows(unit, shift):
    """Open a window around each change of a three-shift factory; office hours keep the default."""
    if shift not in THREE_SHIFTS:
        return None
    return api.shift_change_windows(api.standard_shift(shift))
