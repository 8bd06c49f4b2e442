"""Demo data: the five units, enterprises in every state, workers with varied vaccination status, logins."""
from __future__ import annotations

import random
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.vn import mst

from portal.auth.models import Role, User
from portal.auth.services import create_user
from portal.clock import HCMC, local_today, utcnow
from portal.enterprises.models import Enterprise, EnterpriseStatus
from portal.messages import Refusal
from portal.plugins.registry import UnitRegistry
from portal.text import fold, normalise_phone
from portal.units.services import sync_units
from portal.workers.identity import make_cccd
from portal.workers.models import VaccineDose, Worker
from portal.workers.validation import clean_worker

DEMO_DOMAIN = "demo.thexanh.vn"
ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
          "Dương"]
MIDDLE_M = ["Văn", "Minh", "Hữu", "Đức", "Thành", "Quốc", "Hoàng", "Tấn"]
MIDDLE_F = ["Thị", "Ngọc", "Thu", "Mỹ", "Kim", "Thanh", "Bảo", "Hồng"]
GIVEN_M = ["An", "Bình", "Cường", "Dũng", "Hùng", "Khoa", "Long", "Nam", "Phúc", "Quang", "Sơn", "Tài", "Trí", "Vinh"]
GIVEN_F = ["Anh", "Châu", "Diệp", "Hà", "Hương", "Lan", "Linh", "Mai", "Nga", "Oanh", "Phương", "Thảo", "Trang", "Uyên"]
DISTRICT_WARDS = {
    "Quận 7": ["Tân Thuận Đông", "Tân Thuận Tây", "Tân Kiểng", "Tân Hưng", "Bình Thuận", "Tân Quy", "Phú Thuận",
               "Tân Phú", "Tân Phong", "Phú Mỹ"],
    "Huyện Nhà Bè": ["Phước Kiển", "Nhơn Đức", "Hiệp Phước", "Long Thới"],
    "Quận 8": ["Phường 1", "Phường 4", "Phường 16"],
    "Huyện Củ Chi": ["Tân Thông Hội", "Tân Phú Trung", "Phước Vĩnh An", "Thị trấn Củ Chi"],
    "Huyện Cần Giờ": ["Cần Thạnh", "Long Hòa", "Bình Khánh", "An Thới Đông"],
    "Thành phố Thủ Đức": ["Linh Trung", "Tân Phú", "Hiệp Phú", "Long Thạnh Mỹ"],
}
STREETS = ["Nguyễn Thị Thập", "Lê Văn Lương", "Huỳnh Tấn Phát", "Tỉnh lộ 15", "Rừng Sác"]
UNIT_HOME = {
    "district7": ("Quận 7", "Nguyễn Văn Linh"),
    "cugi": ("Huyện Củ Chi", "Tỉnh lộ 8"),
    "cangio": ("Huyện Cần Giờ", "Rừng Sác"),
    "industrial_zones": ("Quận 7", "Huỳnh Tấn Phát"),
    "hitech_park": ("Thành phố Thủ Đức", "Xa lộ Hà Nội"),
}
ENTERPRISE_NAMES = {
    "district7": ["Công ty TNHH Thực phẩm Sài Gòn Xanh", "Công ty CP Phân phối Nam Sông Hậu",
                  "Công ty TNHH Dược phẩm Phú Mỹ", "Công ty CP Siêu thị Tân Phong", "Công ty TNHH Kho vận Tân Thuận"],
    "cugi": ["Công ty CP Nông sản Đồng Xanh", "Hợp tác xã Rau sạch Tân Phú Trung",
             "Công ty TNHH Vật tư Nông nghiệp Củ Chi", "Công ty TNHH Du lịch Địa đạo", "Công ty CP Sữa Phước Vĩnh An"],
    "cangio": ["Công ty TNHH Du lịch Rừng Sác", "Công ty CP Thủy sản Cần Thạnh", "Hợp tác xã Muối Lý Nhơn",
               "Công ty TNHH Hải sản Long Hòa", "Công ty TNHH Nghỉ dưỡng Cần Giờ"],
    "industrial_zones": ["Công ty TNHH Điện tử Tân Thuận", "Công ty CP Bao bì Hiệp Phước",
                         "Công ty TNHH May mặc Linh Trung", "Công ty CP Logistics Cát Lái",
                         "Công ty TNHH Cơ khí Vĩnh Lộc"],
    "hitech_park": ["Công ty TNHH Kỹ thuật Cao Sài Gòn", "Công ty CP Vi mạch Thủ Đức", "Công ty TNHH Phần mềm Xa Lộ",
                    "Công ty CP Tự động hóa Long Thạnh Mỹ", "Công ty TNHH Sinh học Công nghệ cao"],
}
#: Mobile prefixes in use in 2021 (Viettel, MobiFone, VinaPhone, Vietnamobile); each number is still checked.
MOBILE_PREFIXES = ("086", "096", "097", "098", "032", "038", "090", "093", "070", "079", "088", "091", "094",
                   "083", "092", "058")
# Vaccination profiles, drawn with these weights, relative to today.
PROFILES = [("full", 45), ("waiting", 10), ("one_dose", 12), ("none", 10), ("recovered", 10),
            ("recovery_expired", 3), ("janssen", 4), ("abdala_two", 4)]
#: Draws of one worker before the demo gives up: every demo worker passes the portal's own validation.
MAX_DRAWS = 50


@dataclass
class Login:
    role: str
    email: str
    password: str
    label: str


def _ascii_slug(text: str) -> str:
    return "".join(c for c in fold(text) if c.isalnum())


def _person(rng: random.Random) -> tuple[str, str, date]:
    sex = rng.choice("MF")
    middle, given = (MIDDLE_M, GIVEN_M) if sex == "M" else (MIDDLE_F, GIVEN_F)
    name = f"{rng.choice(FAMILY)} {rng.choice(middle)} {rng.choice(given)}"
    born = date(rng.randint(1965, 2002), rng.randint(1, 12), rng.randint(1, 28))
    return unicodedata.normalize("NFC", name), sex, born


def _mobile(rng: random.Random) -> str:
    """Return a mobile number the portal accepts (not every number under a prefix is allocated)."""
    while True:
        number = f"{rng.choice(MOBILE_PREFIXES)}{rng.randint(0, 9_999_999):07d}"
        try:
            return normalise_phone(number)
        except Refusal:
            continue


def _tax_code(rng: random.Random) -> str:
    while True:
        body = f"03{rng.randint(1_000_000, 9_999_999):07d}"
        check = mst.calc_check_digit(body)
        if len(check) == 1:  # a body whose check would be "10" has no valid tax code
            return body + check


def _doses(rng: random.Random, profile: str, today: date) -> tuple[list[tuple[str | None, date | None]], date | None]:
    """Return (doses as (product, date), recovered_on) for a profile."""
    product = rng.choice(["astrazeneca", "pfizer", "moderna", "verocell", "sputnikv"])
    if profile == "full":
        second = today - timedelta(days=rng.randint(15, 90))
        return [(product, second - timedelta(days=rng.randint(28, 84))), (product, second)], None
    if profile == "waiting":
        second = today - timedelta(days=rng.randint(1, 12))
        return [(product, second - timedelta(days=30)), (product, second)], None
    if profile == "one_dose":
        return [(product, today - timedelta(days=rng.randint(5, 60)))], None
    if profile == "recovered":
        return [], today - timedelta(days=rng.randint(20, 170))
    if profile == "recovery_expired":
        return [], today - timedelta(days=rng.randint(190, 260))
    if profile == "janssen":
        return [("janssen", today - timedelta(days=rng.randint(20, 60)))], None
    if profile == "abdala_two":
        first = today - timedelta(days=rng.randint(30, 60))
        return [("abdala", first), ("abdala", first + timedelta(days=14))], None
    return [], None


def _worker(rng: random.Random, registry: UnitRegistry, enterprise: Enterprise, unit_code: str, serial: int,
            today: date, shifts: list[str]) -> Worker:
    """Draw a worker and pass it through the validation every way in uses (the form, an import, the API).

    What is stored is what the validation returns, so a demo enterprise's export imports back unchanged.
    A draw the validation refuses is drawn again.
    """
    for _draw in range(MAX_DRAWS):
        clean, refusals = clean_worker(_draw_worker(rng, registry, unit_code, serial, today, shifts), registry,
                                       today=today)
        if clean is not None and not refusals:
            return Worker(
                enterprise=enterprise, full_name=clean.full_name, name_key=clean.name_key,
                date_of_birth=clean.date_of_birth, sex=clean.sex, citizen_id=clean.citizen_id, phone=clean.phone,
                home_address=clean.home_address, home_ward=clean.home_ward, home_district=clean.home_district,
                job_title=clean.job_title, shift=clean.shift, recovered_on=clean.recovered_on,
                test_kind=clean.test_kind, tested_on=clean.tested_on,
                doses=[VaccineDose(number=number, product=product, given_on=day)
                       for number, (product, day) in enumerate(clean.doses, start=1)],
            )
    raise RuntimeError(f"no valid demo worker in {MAX_DRAWS} draws: {[str(refusal) for refusal in refusals]}")


def _draw_worker(rng: random.Random, registry: UnitRegistry, unit_code: str, serial: int, today: date,
                 shifts: list[str]) -> dict:
    """Return a worker as someone would type it in the form (dates, codes and names as values)."""
    name, sex, born = _person(rng)
    district = rng.choice(list(DISTRICT_WARDS)) if rng.random() < 0.3 else UNIT_HOME.get(unit_code, ("Quận 7", ""))[0]
    profile = rng.choices([p for p, _w in PROFILES], weights=[w for _p, w in PROFILES])[0]
    doses, recovered = _doses(rng, profile, today)
    raw = {
        "full_name": name, "date_of_birth": born, "sex": sex, "citizen_id": make_cccd(79, born, sex, serial),
        "phone": _mobile(rng), "home_address": f"{rng.randint(1, 500)}/{rng.randint(1, 99)} {rng.choice(STREETS)}",
        "home_ward": rng.choice(DISTRICT_WARDS.get(district, ["Phường 1"])), "home_district": district,
        "job_title": rng.choice(["Công nhân", "Kế toán", "Nhân viên kho", "Bảo vệ", "Tài xế", "Kỹ sư"]),
        "shift": registry.shifts[rng.choice(shifts)].name_vi, "recovered_on": recovered,
    }
    if rng.random() < 0.3:
        raw["test_kind"], raw["tested_on"] = rng.choice(["pcr", "rapid"]), today - timedelta(days=rng.randint(0, 6))
    for number, (product, day) in enumerate(doses, start=1):
        raw[f"dose{number}_product"], raw[f"dose{number}_date"] = product, day
    return raw


def seed(session: Session, registry: UnitRegistry, *, password: str | None = None,
         workers_per_enterprise: int = 40, today: date | None = None, rng_seed: int = 2021) -> list[Login]:
    """Seed demo data once, (re)set every demo account's password, and return the logins (not committed)."""
    today = today or local_today()
    rng = random.Random(rng_seed)
    if session.scalar(select(User).where(User.email == ADMIN_EMAIL)) is None:
        _seed_data(session, registry, rng, workers_per_enterprise, today)
    logins = []
    shared_hash = None
    for user in session.scalars(select(User).where(User.email.like(f"%@{DEMO_DOMAIN}")).order_by(User.id)):
        secret = password or secrets.token_urlsafe(9)
        if password:
            # One shared password: hash it once (a hash costs ~0.3 s) and give every account its own session.
            if shared_hash is None:
                user.set_password(secret)
                shared_hash = user.password_hash
            else:
                user.password_hash = shared_hash
                user.session_version = (user.session_version or 0) + 1
        else:
            user.set_password(secret)
        label = (user.enterprise.name if user.enterprise else user.unit.name_vi if user.unit
                 else "Thành phố Hồ Chí Minh")
        logins.append(Login(user.role, user.email, secret, label))
    session.flush()
    return logins


def _seed_data(session: Session, registry: UnitRegistry, rng: random.Random, per_enterprise: int,
               today: date) -> None:
    password = secrets.token_urlsafe(12)  # replaced by seed() right after
    create_user(session, email=ADMIN_EMAIL, password=password, full_name="Quản trị Thành phố", role=Role.ADMIN)
    create_user(session, email=f"yte@{DEMO_DOMAIN}", password=password, full_name="Cán bộ Sở Y tế",
                role=Role.HEALTH)
    units = sync_units(session, registry)
    states = [EnterpriseStatus.APPROVED, EnterpriseStatus.APPROVED, EnterpriseStatus.PENDING,
              EnterpriseStatus.REJECTED, EnterpriseStatus.SUSPENDED]
    shifts = list(registry.shifts)
    serial = 100_000
    for unit in units:
        code = unit.code
        create_user(session, email=f"canbo.{_ascii_slug(code)}@{DEMO_DOMAIN}", password=password,
                    full_name=f"Cán bộ {unit.name_vi}", role=Role.OFFICIAL, unit=unit)
        types = list(registry.business_types[code]) or ["other"]
        sectors = list(registry.sectors[code]) or ["other"]
        locations = list(registry.locations[code])
        district, street = UNIT_HOME.get(code, ("Quận 7", "Nguyễn Văn Linh"))
        for index, status in enumerate(states, start=1):
            names = ENTERPRISE_NAMES.get(code) or [f"Doanh nghiệp {unit.name_vi}"] * len(states)
            name = f"{names[(index - 1) % len(names)]} ({unit.short_code}-{index})"
            enterprise = Enterprise(
                name=name, tax_code=_tax_code(rng), address=f"{rng.randint(1, 900)} {street}",
                ward=rng.choice(DISTRICT_WARDS.get(district, ["Phường 1"])), district=district, unit=unit,
                business_type=types[index % len(types)], sector=sectors[index % len(sectors)],
                location=locations[index % len(locations)] if locations else None,
                headcount=per_enterprise + rng.randint(0, 50), contact_name=_person(rng)[0],
                phone=f"0283{rng.randint(0, 9_999_999):07d}", email=f"hr{index}.{code}@example.vn",
                status=status.value,
                status_reason={"rejected": "Ngành nghề không thuộc diện thí điểm",
                               "suspended": "Tạm ngưng do phát hiện ca F0 tại nơi làm việc"}.get(status.value),
            )
            session.add(enterprise)
            session.flush()
            create_user(session, email=f"nhansu{index}.{_ascii_slug(code)}@{DEMO_DOMAIN}", password=password,
                        full_name=f"Nhân sự {unit.short_code}-{index}", role=Role.HR, enterprise=enterprise)
            count = per_enterprise if status in (EnterpriseStatus.APPROVED, EnterpriseStatus.SUSPENDED) \
                else per_enterprise // 4
            for _ in range(count):
                serial += 1
                session.add(_worker(rng, registry, enterprise, code, serial, today, shifts))
    session.flush()
    _seed_activity(session, registry, rng, today)


def _seed_activity(session: Session, registry: UnitRegistry, rng: random.Random, today: date) -> None:
    """Issue cards to the eligible workers of approved enterprises, revoke a few, and add two weeks of scans."""
    from portal.eligibility.upkeep import RefreshScope, refresh_eligibility
    from portal.passes.issuing import issue_all_eligible
    from portal.passes.revoking import revoke_pass
    from portal.verify.models import VerificationRecord

    approved = session.scalars(select(Enterprise).where(Enterprise.status == EnterpriseStatus.APPROVED.value)
                               .order_by(Enterprise.id)).all()
    for enterprise in approved:
        hr = session.scalar(select(User).where(User.enterprise_id == enterprise.id))
        issue_all_eligible(session, registry, enterprise, hr, today=today, confirmed=True)
    session.flush()
    from portal.passes.models import Pass

    for pass_ in session.scalars(select(Pass).order_by(Pass.id)).all()[::9]:
        revoke_pass(session, registry, pass_, None, "left")
    outcomes = ["valid"] * 80 + ["outside_window"] * 9 + ["expired"] * 3 + ["revoked"] * 3 + \
        ["superseded"] * 1 + ["invalid"] * 4
    records = []
    for enterprise in approved:
        for days_ago in range(14, -1, -1):
            day = today - timedelta(days=days_ago)
            for _ in range(rng.randint(3, 12)):
                minute = rng.choice([rng.randint(6 * 60 + 30, 8 * 60), rng.randint(16 * 60 + 30, 18 * 60),
                                     rng.randint(0, 24 * 60 - 1)])
                at = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=HCMC)
                if at > utcnow():
                    continue
                records.append(VerificationRecord(at=at, outcome=rng.choice(outcomes), unit_id=enterprise.unit_id,
                                                  sector=enterprise.sector))
    session.add_all(records)
    session.flush()
    refresh_eligibility(session, registry, RefreshScope(), on_date=today, now=utcnow())


def format_logins(logins: list[Login]) -> str:
    """Return the logins as a table for the terminal."""
    lines = ["Demo logins (passwords are reset each time 'portal demo' runs):", ""]
    width = max(len(login.email) for login in logins) if logins else 10
    for login in logins:
        lines.append(f"  {login.role:9} {login.email:{width}}  {login.password:16}  {login.label}")
    return "\n".join(lines)
