"""Saigon Hi-Tech Park (Khu công nghệ cao TP.HCM, SHTP) in the 2021 pilot.

An enterprise joins only from inside the park (its one declared location: the core refuses any
other). Three-shift plants commute around each shift change rather than in the default morning
and evening windows, so the park's windows follow the shift.
"""
from portal.plugins import api, hookimpl

UNIT = api.UnitDescriptor(
    code="hitech_park",
    short_code="CNC",
    name_vi="Khu công nghệ cao TP.HCM (SHTP)",
    name_en="Saigon Hi-Tech Park (SHTP)",
    authority_vi="Ban quản lý Khu công nghệ cao TP.HCM",
    authority_en="Saigon Hi-Tech Park Authority (SHTP)",
    travel_note_vi="Doanh nghiệp ngoài Khu công nghệ cao tiếp tục đăng ký giấy đi đường.",
    travel_note_en="Enterprises outside the Hi-Tech Park keep applying for travel permits (giấy đi đường).",
)

BUSINESS_TYPES = [
    api.BusinessType("hitech_manufacturing", "Sản xuất sản phẩm công nghệ cao", "Hi-tech manufacturing"),
    api.BusinessType("research_development", "Nghiên cứu và phát triển", "Research and development"),
    api.BusinessType("hitech_services", "Dịch vụ công nghệ cao", "Hi-tech services"),
    api.BusinessType("incubation", "Ươm tạo công nghệ, doanh nghiệp công nghệ cao",
                     "Technology and start-up incubation"),
]

SECTORS = [
    api.Sector("microelectronics", "Vi điện tử, bán dẫn", "Microelectronics and semiconductors"),
    api.Sector("ict_software", "Công nghệ thông tin, viễn thông, phần mềm", "ICT and software"),
    api.Sector("automation_mechatronics", "Tự động hóa, cơ điện tử", "Automation and mechatronics"),
    api.Sector("biotech_pharma", "Công nghệ sinh học, dược phẩm", "Biotechnology and pharmaceuticals"),
    api.Sector("new_materials_energy", "Vật liệu mới, năng lượng mới", "New materials and energy"),
]

PARK = api.Location("shtp", "Khu công nghệ cao TP.HCM (TP Thủ Đức)", "Saigon Hi-Tech Park (Thủ Đức City)")

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
    return [PARK]


@hookimpl
def portal_windows_follow_shift(unit):
    return True


@hookimpl
def portal_commute_windows(unit, shift):
    """Open a window around each change of a three-shift plant; office hours keep the default."""
    if shift not in THREE_SHIFTS:
        return None
    return api.shift_change_windows(api.standard_shift(shift))
