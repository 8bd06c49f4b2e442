"""The card's PDF: rendered once per content and cached, dropped on change (print sheets: tests/printing)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.passes import pdf
from portal.storage import blob_store
from portal.storage.cache import PASS_PDFS
from portal.storage.models import Blob

needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext") or not shutil.which("pdftoppm"),
                                   reason="poppler-utils are not installed")


def _pdftotext(data: bytes, tmp_path: Path) -> str:
    source = tmp_path / "card.pdf"
    source.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(source), "-"], check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture
def renders(monkeypatch):
    """Count the real renders (the renderer still runs)."""
    calls = []
    real = pdf.render_pass_pdf

    def counting(card):
        calls.append(card.serial)
        return real(card)

    monkeypatch.setattr(pdf, "render_pass_pdf", counting)
    return calls


def _cached(app, serial: str) -> list[str]:
    """The keys of the card's cached PDFs in the blob store every node reads."""
    return PASS_PDFS.cached(app, serial)


def _stored_at(app, key: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Blob.id).where(Blob.key == key))


@needs_poppler
def test_the_pdf_is_rendered_once_then_served_from_the_cache(client, auth, app, world, helpers, renders, tmp_path):
    pass_id = helpers.issue(world.worker_a, world.hr_a)
    pass_ = helpers.pass_of(world.worker_a)
    auth.login(world.hr_a)
    response = client.get(f"/passes/{pass_id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="the-xanh-{pass_.serial}.pdf"'
    assert "no-store" in response.headers["Cache-Control"]
    text = _pdftotext(response.data, tmp_path)
    assert "Nguyễn Văn An" in text and pass_.serial in text and "Công ty TNHH Ánh Dương" in text
    assert "079090001234" not in text and "1234" in text  # the ID only as its last four digits
    [cached] = _cached(app, pass_.serial)
    assert cached.startswith(f"cache/pass-pdf/{pass_.serial}/v1-") and cached.endswith(".pdf")
    with blob_store(app).open(cached) as stream:
        assert stream.read() == response.data
    first_row = _stored_at(app, cached)
    again = client.get(f"/passes/{pass_id}.pdf")
    assert again.data == response.data
    assert renders == [pass_.serial]  # the second download did not render
    assert _stored_at(app, cached) == first_row  # nor store it again
    for path in Path(app.instance_path).rglob("*"):  # nothing of it on this node's disk
        assert path.suffix != ".pdf"


def test_a_new_version_drops_the_cached_pdf(client, auth, app, world, helpers, renders):
    from portal.events import workers_changed
    from portal.workers.models import Worker

    pass_id = helpers.issue(world.worker_a, world.hr_a)
    serial = helpers.pass_of(world.worker_a).serial
    auth.login(world.hr_a)
    client.get(f"/passes/{pass_id}.pdf")
    [old] = _cached(app, serial)
    with app.app_context():
        worker = db.session.get(Worker, world.worker_a)
        worker.home_ward = "Tân Phú"
        workers_changed.send(worker.enterprise, session=db.session, actor=None,
                             registry=app.extensions["portal.plugins"].registry, worker_ids=[worker.id])
        assert blob_store(app).exists(old)  # nothing is dropped before the commit
        db.session.commit()
    assert not blob_store(app).exists(old)
    client.get(f"/passes/{pass_id}.pdf")
    [new] = _cached(app, serial)
    assert new.rsplit("/", 1)[1].startswith("v2-") and renders == [serial, serial]


def test_a_revoked_card_is_not_downloadable_and_its_cache_is_gone(client, auth, app, world, helpers):
    pass_id = helpers.issue(world.worker_a, world.hr_a)
    serial = helpers.pass_of(world.worker_a).serial
    auth.login(world.hr_a)
    client.get(f"/passes/{pass_id}.pdf")
    assert _cached(app, serial)
    client.submit(f"/passes/{pass_id}/revoke", {"reason": "left"})
    response = client.get(f"/passes/{pass_id}.pdf")
    assert response.status_code == 410
    assert "Thẻ xanh này đã bị thu hồi nên không thể tải xuống." in response.get_data(as_text=True)
    assert _cached(app, serial) == []


def test_a_card_revoked_while_its_pdf_renders_leaves_no_cached_copy(client, auth, app, world, helpers, monkeypatch):
    """The drop after the revocation's commit runs before the render stores its PDF: the render takes it back."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):  # tests/storage: the same check, any database
        pytest.skip("SQLite has one writer: a revocation waits for the download's transaction to end")
    pass_id = helpers.issue(world.worker_a, world.hr_a)
    serial = helpers.pass_of(world.worker_a).serial
    real = pdf.render_pass_pdf

    def revoked_meanwhile(card):
        with app.app_context():  # another request, on another node, revokes and commits
            from portal.auth.models import User
            from portal.passes.models import Pass
            from portal.passes.revoking import revoke_pass

            hr = db.session.scalar(select(User).where(User.email == world.hr_a))
            revoke_pass(db.session, app.extensions["portal.plugins"].registry, db.session.get(Pass, pass_id), hr,
                        "left")
            db.session.commit()
            assert _cached(app, serial) == []  # its drop found nothing yet
        return real(card)

    monkeypatch.setattr(pdf, "render_pass_pdf", revoked_meanwhile)
    auth.login(world.hr_a)
    assert client.get(f"/passes/{pass_id}.pdf").status_code == 200  # this download began before the revocation
    assert _cached(app, serial) == []


@pytest.mark.parametrize("who, status", [("hr_a", 200), ("official_x", 200), ("admin", 200),
                                         ("hr_b", 404), ("official_y", 404)])
def test_who_may_download(client, auth, world, helpers, who, status):
    pass_id = helpers.issue(world.worker_a, world.hr_a)
    auth.login(getattr(world, who))
    assert client.get(f"/passes/{pass_id}.pdf").status_code == status


def test_anonymous_cannot_download(client, world, helpers):
    pass_id = helpers.issue(world.worker_a, world.hr_a)
    response = client.get(f"/passes/{pass_id}.pdf")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
