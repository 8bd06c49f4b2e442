"""Every job the portal starts ends on a page that says what it did, with counts, and links to the next step."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal.clock import local_today
from portal.extensions import db
from portal.jobs.services import HANDLERS_KEY
from portal.testing.fixtures import make_worker
from portal.verify.testing import make_pass
from portal.workers.models import Worker


@pytest.fixture
def app_config(app_config):
    # Small enough that the pages hand these to a job (run in the committing thread under TESTING).
    return {**app_config, "PASSES_ISSUE_ALL_INLINE_MAX": 0, "ELIGIBILITY_INLINE_REFRESH_LIMIT": 0}


def _three_workers(app, world, *, with_cards: bool) -> None:
    today = local_today()
    with app.app_context():
        enterprise = db.session.get(Worker, world.worker_a).enterprise
        for n in range(3):
            worker = make_worker(db.session, enterprise, citizen_id=f"07909100{n:04d}", name=f"Phan Văn Tư {n}",
                                 doses=[("pfizer", today - timedelta(days=60)), ("pfizer", today - timedelta(days=30))])
            if with_cards:
                make_pass(db.session, worker)
        db.session.commit()


def _start(client, app, world, kind: str) -> str:
    if kind == "print_sheet":
        _three_workers(app, world, with_cards=True)
        return client.submit("/passes/print-sheet").headers["Location"]
    if kind == "issue_all":
        _three_workers(app, world, with_cards=False)
        return client.submit("/passes/issue-all", {"confirm": "1"}).headers["Location"]
    if kind == "eligibility.refresh":
        _three_workers(app, world, with_cards=False)
        return client.submit("/eligibility/refresh").headers["Location"]
    raise AssertionError(kind)


#: kind: what its final words must say (Vietnamese, the default language)
FINAL_WORDS = {
    "print_sheet": r"Đã xong\. Đã sẵn sàng 3 thẻ xanh trên 1 trang A4, sau 1 trang danh sách ký nhận\. Bước tiếp theo:",
    "issue_all": r"Đã xong\. .*\b4\b",  # worker A and the three new ones
    "eligibility.refresh": r"Đã xong\. Đã xét lại 4 người lao động\.",
}


@pytest.mark.parametrize("kind", sorted(FINAL_WORDS))
def test_the_final_page_says_what_was_done_and_links_to_the_next_step(client, auth, app, world, kind):
    auth.login(world.hr_a)
    url = _start(client, app, world, kind)
    assert re.fullmatch(r"/jobs/\d+", url), url
    status = client.get(url, headers={"Accept": "application/json"}).get_json()
    assert status["status"] == "done", status
    assert re.search(FINAL_WORDS[kind], status["text"]), status["text"]
    assert status["next_url"], "a finished job links to what comes next"
    assert client.get(status["next_url"], follow_redirects=True).status_code == 200
    page = client.get(url).get_data(as_text=True)
    link = re.search(r'<p class="job-next">\s*<a class="job-next-link" href="([^"]+)">([^<]+)</a>', page)
    assert link and link.group(1) == status["next_url"] and link.group(2).strip() == status["next_label"]
    if kind == "print_sheet":
        assert re.search(r'<a class="button job-download" href="/jobs/\d+/download">', page)


def test_every_job_kind_of_the_pages_is_covered_here(app):
    started_by_hr_pages = {"print_sheet", "issue_all", "eligibility.refresh"}
    kinds = set(app.extensions[HANDLERS_KEY])
    assert started_by_hr_pages <= kinds
    # The others: imports.check and imports.commit (tests/imports) link to their batch; health.check and
    # health.match (tests/health) to their extract; mail.send is the outbox's (tests/mail).
    assert kinds - started_by_hr_pages == {"imports.check", "imports.commit", "health.check", "health.match",
                                           "mail.send"}
