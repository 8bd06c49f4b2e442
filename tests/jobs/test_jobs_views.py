"""Who may follow and download a job, and what the progress page and its JSON say, in the reader's language."""
from __future__ import annotations

import pytest
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.auth.models import User
from portal.extensions import db
from portal.jobs.models import Job, JobStatus
from portal.jobs.services import Outcome, enqueue, register_handler
from portal.messages import Message


def _sheet(ctx, *, name: str):
    ctx.progress(7, 7, _l("Laying out the pages"))
    ctx.save_output(name, b"%PDF-1.7 fake sheet " * 100_000, content_type="application/pdf")
    return Outcome({"count": 7}, summary=_l("%(count)s green cards ready to print.", count=7),
                   next_endpoint="home.index", next_label=_l("Preparing the cards"))


@pytest.fixture(autouse=True)
def _job_handlers(app):
    """Register this module's job handlers on the app under test."""
    register_handler(app, "test_jobs_views.sheet", _sheet, back_endpoint="home.index")


def _job_for(app, email: str, **values) -> int:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if values:
            job = Job(kind="test_jobs_views.sheet", params={"name": "x.pdf"}, user_id=user.id, **values)
            db.session.add(job)
        else:
            job = enqueue(db.session, "test_jobs_views.sheet", {"name": "the-xanh.pdf"}, user_id=user.id)
        db.session.commit()
        return job.id


JSON = {"Accept": "application/json"}
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def test_the_owner_follows_the_job_and_downloads_its_file_streamed_from_storage(client, auth, world, app):
    job_id = _job_for(app, world.hr_a)
    auth.login(world.hr_a)
    data = client.get(f"/jobs/{job_id}", headers=JSON).get_json()
    assert data["status"] == "done" and data["percent"] == 100 and (data["done"], data["total"]) == (7, 7)
    assert data["download_url"] == f"/jobs/{job_id}/download" and data["result"] == {"count": 7}
    assert data["text"] == "Đã xong. Đã sẵn sàng 7 thẻ xanh để in."
    assert (data["next_url"], data["next_label"]) == ("/", "Đang chuẩn bị thẻ")
    page = client.get(f"/jobs/{job_id}", headers=HTML).get_data(as_text=True)
    assert '<p class="job-result">' in page and f'href="/jobs/{job_id}/download"' in page
    assert '<p class="job-next">' in page and '<a class="job-next-link" href="/">Đang chuẩn bị thẻ</a>' in page
    assert "Tải lại" not in page  # finished: nothing to refresh
    response = client.get(data["download_url"])
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Length"] == str(len(b"%PDF-1.7 fake sheet ") * 100_000)
    assert response.data == b"%PDF-1.7 fake sheet " * 100_000
    assert response.headers["Content-Disposition"] == "attachment; filename=the-xanh.pdf"
    assert response.mimetype == "application/pdf" and "no-store" in response.headers["Cache-Control"]
    response.close()


def test_a_job_speaks_the_readers_language_not_the_one_it_ran_in(client, auth, world, app):
    job_id = _job_for(app, world.hr_a)  # enqueued outside a request: it ran in Vietnamese
    auth.login(world.hr_a)
    client.set_cookie("lang", "en")
    data = client.get(f"/jobs/{job_id}", headers=JSON).get_json()
    assert data["text"] == "Done. 7 green cards ready to print."
    assert data["message"] == "Laying out the pages" and data["next_label"] == "Preparing the cards"
    client.set_cookie("lang", "vi")
    assert client.get(f"/jobs/{job_id}", headers=JSON).get_json()["message"] == "Đang dàn trang"


@pytest.mark.parametrize("who, status", [("hr_b", 404), ("official_x", 404), ("official_y", 404), ("admin", 200)])
def test_only_the_owner_and_the_admin_see_a_job(client, auth, world, app, who, status):
    job_id = _job_for(app, world.hr_a)
    auth.login(getattr(world, who))
    assert client.get(f"/jobs/{job_id}", headers=JSON).status_code == status
    assert client.get(f"/jobs/{job_id}", headers=HTML).status_code == status
    response = client.get(f"/jobs/{job_id}/download")
    assert response.status_code == status
    response.close()


def test_anonymous_visitors_are_sent_to_sign_in(client, world, app):
    job_id = _job_for(app, world.hr_a)
    for url in (f"/jobs/{job_id}", f"/jobs/{job_id}/download"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_unknown_jobs_are_404(client, auth, world):
    auth.login(world.admin)
    assert client.get("/jobs/999999", headers=JSON).status_code == 404


def test_the_progress_page_works_without_script_and_loads_no_inline_code(client, auth, world, app):
    job_id = _job_for(app, world.hr_a, status=JobStatus.RUNNING.value, done=30, total=120,
                      progress_message=Message.of("Laying out the pages").as_json())
    auth.login(world.hr_a)
    response = client.get(f"/jobs/{job_id}", headers=HTML)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert '<progress class="job-progress" max="100" value="25">' in page
    assert "30" in page and "120" in page and "Đang dàn trang" in page
    assert f'href="/jobs/{job_id}"' in page  # the Refresh link for browsers without JavaScript
    assert '<p class="job-result" hidden>' in page and '<p class="job-next" hidden>' in page
    assert "/static/js/jobs.js" in page
    assert "<script>" not in page and " style=" not in page and "http-equiv" not in page
    assert client.get(f"/jobs/{job_id}/download").status_code == 404  # not finished


def test_a_failed_job_says_why_without_showing_the_error_to_hr(client, auth, world, app):
    job_id = _job_for(app, world.hr_a, status=JobStatus.FAILED.value, error="KeyError: secret internals")
    auth.login(world.hr_a)
    data = client.get(f"/jobs/{job_id}", headers=JSON).get_json()
    assert data["status"] == "failed" and data["finished"] and data["download_url"] is None
    assert data["text"].startswith("Tác vụ bị lỗi.")
    assert "secret internals" not in client.get(f"/jobs/{job_id}", headers=HTML).get_data(as_text=True)
    assert client.get(f"/jobs/{job_id}/download").status_code == 404
    clear = _job_for(app, world.hr_a, status=JobStatus.FAILED.value, summary=Message.of(
        "The database was unavailable while this job ran; nothing of it was saved. Please start it again.").as_json())
    client.set_cookie("lang", "en")
    assert client.get(f"/jobs/{clear}", headers=JSON).get_json()["text"] == (
        "The database was unavailable while this job ran; nothing of it was saved. Please start it again.")


def test_a_file_gone_from_storage_is_404_not_500(client, auth, world, app):
    from portal.storage import blob_store

    job_id = _job_for(app, world.hr_a)
    with app.app_context():
        key = db.session.get(Job, job_id).output_key
        db.session.remove()
        assert blob_store(app).delete(key)
    auth.login(world.hr_a)
    assert client.get(f"/jobs/{job_id}/download").status_code == 404
