"""The officials' queue: filters, diacritic-insensitive search, pages, counts, and a fixed number of queries."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from portal.testing.fixtures import make_enterprise, make_worker


def _names(page: str) -> list[str]:
    return re.findall(r'<a href="/enterprises/\d+">([^<]+)</a>', page)


def _add(app, registry, unit: str, names_and_statuses, first_tax_seed: int = 100):
    from portal.extensions import db

    with app.app_context():
        ids = []
        for offset, (name, status) in enumerate(names_and_statuses):
            ids.append(make_enterprise(db.session, registry, unit, name, f"8{first_tax_seed + offset:09d}",
                                       status=status).id)
        db.session.commit()
        return ids


def test_pending_first_with_counts_per_status(app, client, auth, world, registry):
    _add(app, registry, "district7", [("Công ty CP Đông Á", "pending"), ("Công ty TNHH Tân Phú", "rejected"),
                                      ("Công ty TNHH Hưng Thịnh", "pending")])
    auth.login(world.official_x)
    page = client.get("/officials/enterprises").get_data(as_text=True)

    assert _names(page) == ["Công ty CP Đông Á", "Công ty TNHH Hưng Thịnh"]  # oldest application first
    tabs = dict(re.findall(r'status=(\w+)[^"]*"[^>]*>[^<]+<span class="count">(\d+)</span>', page))
    assert tabs == {"pending": "2", "approved": "1", "rejected": "1", "suspended": "0", "all": "4"}
    assert re.search(r"Quận 7:\s+1 doanh nghiệp đã được duyệt", page)

    assert _names(client.get("/officials/enterprises?status=rejected").get_data(as_text=True)) == [
        "Công ty TNHH Tân Phú"]
    assert len(_names(client.get("/officials/enterprises?status=all").get_data(as_text=True))) == 4
    # An unknown status falls back to the pending queue rather than failing.
    assert _names(client.get("/officials/enterprises?status=bogus").get_data(as_text=True)) == [
        "Công ty CP Đông Á", "Công ty TNHH Hưng Thịnh"]


@pytest.mark.parametrize(("query", "found"), [
    ("anh duong", ["Công ty TNHH Ánh Dương"]),
    ("ÁNH  DƯƠNG", ["Công ty TNHH Ánh Dương"]),
    ("đông á", ["Công ty CP Đông Á"]),
    ("dong a", ["Công ty CP Đông Á"]),
    ("0301234", ["Công ty TNHH Ánh Dương"]),
    ("0301-234-562", ["Công ty TNHH Ánh Dương"]),
    ("100%", []),
    ("không có", []),
])
def test_search_by_name_ignores_case_and_diacritics_or_by_tax_code(app, client, auth, world, registry, query, found):
    _add(app, registry, "district7", [("Công ty CP Đông Á", "approved")])
    auth.login(world.official_x)
    page = client.get("/officials/enterprises", query_string={"status": "all", "q": query}).get_data(as_text=True)
    assert _names(page) == found


def test_sector_filter_offers_the_units_sectors(app, client, auth, world, registry):
    ids = _add(app, registry, "district7", [("Công ty CP Logistics Phú Mỹ", "approved")])
    from portal.enterprises.models import Enterprise
    from portal.extensions import db

    with app.app_context():
        db.session.get(Enterprise, ids[0]).sector = "logistics"
        db.session.commit()
    auth.login(world.official_x)
    page = client.get("/officials/enterprises?status=all&sector=logistics").get_data(as_text=True)
    assert _names(page) == ["Công ty CP Logistics Phú Mỹ"]
    assert '<option value="logistics" selected>Vận tải, kho bãi, logistics</option>' in page
    assert "cugi" not in re.search(r'<select id="sector".*?</select>', page, re.S).group(0)
    # A sector another unit declares is ignored rather than emptying the list.
    assert len(_names(client.get("/officials/enterprises?status=all&sector=local_tourism").get_data(
        as_text=True))) == 2


def test_admin_sees_every_unit_and_may_narrow_to_one(app, client, auth, world):
    auth.login(world.admin)
    page = client.get("/officials/enterprises?status=all").get_data(as_text=True)
    assert sorted(_names(page)) == ["Công ty TNHH Ánh Dương", "Hợp tác xã Bình Minh"]
    assert re.search(r"Huyện Củ Chi</a>:\s+1 đã duyệt", page)
    page = client.get("/officials/enterprises?status=all&unit=cugi").get_data(as_text=True)
    assert _names(page) == ["Hợp tác xã Bình Minh"]
    assert '<select id="sector" name="sector">' in page  # a chosen unit brings its sector filter


def test_pages_of_twenty_five(app, client, auth, world, registry):
    _add(app, registry, "district7", [(f"Doanh nghiệp {n:02d}", "pending") for n in range(30)])
    auth.login(world.official_x)
    first = client.get("/officials/enterprises").get_data(as_text=True)
    second = client.get("/officials/enterprises?page=2").get_data(as_text=True)
    assert len(_names(first)) == 25 and len(_names(second)) == 5
    assert set(_names(first)).isdisjoint(_names(second))
    assert "Trang 1 / 2" in first and 'href="/officials/enterprises?page=2&amp;status=pending' in first
    # A page past the end shows the last one rather than failing or showing nothing.
    assert _names(client.get("/officials/enterprises?page=99").get_data(as_text=True)) == _names(second)


def test_active_worker_counts(app, client, auth, world, registry):
    from portal.enterprises.models import Enterprise
    from portal.extensions import db

    with app.app_context():
        enterprise = db.session.get(Enterprise, world.enterprise_a)
        make_worker(db.session, enterprise, citizen_id="079090009991")
        gone = make_worker(db.session, enterprise, citizen_id="079090009992")
        gone.active = False
        db.session.commit()
    auth.login(world.official_x)
    page = client.get("/officials/enterprises?status=approved").get_data(as_text=True)
    assert re.search(r'<td class="num">2</td>', page)  # worker_a and the new one; not the one who left


def test_the_number_of_queries_does_not_grow_with_the_page(app, client, auth, world, registry):
    from portal.extensions import db

    def queries_for_queue(extra: int) -> int:
        _add(app, registry, "district7", [(f"Doanh nghiệp {extra}-{n}", "pending") for n in range(extra)],
             first_tax_seed=1000 * extra)
        with app.app_context():
            engine = db.engine
        statements = []

        def count(*_args):
            statements.append(1)

        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get("/officials/enterprises").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    auth.login(world.official_x)
    assert queries_for_queue(2) == queries_for_queue(20)
