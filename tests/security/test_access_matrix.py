"""Every route, every role: who may reach what.

The table below must name every endpoint the app serves; a new route fails this test until its
access is declared here. For each endpoint and method, every role is tried against objects of
enterprise A (District 7) and its worker, pass, job, import batch and API token:

* ``ok``    – the role gets through (any answer but 401/403/404 or a redirect to the login page);
* ``login`` – anonymous visitors are sent to the login page;
* ``deny``  – 403 or 404 (404 when the object exists but is not the role's to see);
* ``401``   – the JSON API authenticates by bearer token only; a session cookie gets 401.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.auth.models import User
from portal.extensions import db
from portal.workers.columns import HEADERS
from portal.workers.models import Worker

ROLES = ("anonymous", "hr_b", "official_y", "hr_a", "official_x", "admin", "health")

PUBLIC = dict.fromkeys(ROLES, "ok")
SIGNED_IN = {"anonymous": "login", **dict.fromkeys(ROLES[1:], "ok")}
HR_PAGE = {"anonymous": "login", "hr_a": "ok", "hr_b": "ok", "official_x": "deny", "official_y": "deny",
           "admin": "deny", "health": "deny"}
HR_OF_A = {**HR_PAGE, "hr_b": "deny"}
OFFICIALS = {"anonymous": "login", "hr_a": "deny", "hr_b": "deny", "official_x": "ok", "official_y": "ok",
             "admin": "ok", "health": "deny"}
OVERSEERS_OF_A = {"anonymous": "login", "hr_a": "ok", "hr_b": "deny", "official_x": "ok", "official_y": "deny",
                  "admin": "ok", "health": "deny"}
DECIDERS_OF_A = {**OVERSEERS_OF_A, "hr_a": "deny"}
OWNER_OR_ADMIN = {"anonymous": "login", "hr_a": "ok", "hr_b": "deny", "official_x": "deny",
                  "official_y": "deny", "admin": "ok", "health": "deny"}
#: Pages of enterprises' data every role but the health-data officer reaches, each within its scope.
EVERYONE_SIGNED_IN_BY_SCOPE = {"anonymous": "login", **dict.fromkeys(ROLES[1:], "ok"), "health": "deny"}
BEARER_ONLY = dict.fromkeys(ROLES, "401")
ADMIN_ONLY = {"anonymous": "login", **dict.fromkeys(ROLES[1:], "deny"), "admin": "ok"}
HEALTH_ONLY = {"anonymous": "login", **dict.fromkeys(ROLES[1:], "deny"), "health": "ok"}
#: Conflicts with the registry across enterprises: the health-data officers, the officials (their unit's), the admin.
HEALTH_OVERSEERS = {**OFFICIALS, "health": "ok"}
#: Accepting the registry's version of a worker's fact: that worker's HR, or a health-data officer.
HEALTH_OR_HR_OF_A = {**HR_OF_A, "health": "ok"}

EXPECTED: dict[str, dict[str, str]] = {
    "static": PUBLIC,
    "home.index": PUBLIC,
    "home.travel_permit": PUBLIC,
    "home.dashboard": SIGNED_IN,
    "i18n.switch": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": SIGNED_IN,
    "auth.two_factor": SIGNED_IN,  # anonymous without a password step: back to the login page
    "auth.forgot_password": PUBLIC,
    "auth.reset_link": PUBLIC,
    "auth.reset_password": PUBLIC,
    "auth.confirm_link": PUBLIC,
    "auth.confirm_email": PUBLIC,
    "auth.confirm_pending": SIGNED_IN,
    "auth.resend_confirmation": SIGNED_IN,
    "auth.change_address": SIGNED_IN,
    "auth.account": SIGNED_IN,
    "auth.change_password": SIGNED_IN,
    "auth.sign_out_everywhere": SIGNED_IN,
    "auth.set_language": SIGNED_IN,
    "auth.two_factor_setup": SIGNED_IN,
    "auth.recovery_codes": SIGNED_IN,
    "auth.two_factor_disable": SIGNED_IN,
    "mail.outbox": ADMIN_ONLY,
    "enterprises.register": PUBLIC,
    "enterprises.mine": HR_PAGE,
    "enterprises.edit": HR_PAGE,
    "enterprises.queue": OFFICIALS,
    "enterprises.detail": OVERSEERS_OF_A,
    "enterprises.decide": DECIDERS_OF_A,
    "workers.index": HR_PAGE,
    "workers.new": HR_PAGE,
    "workers.edit": HR_OF_A,
    "workers.deactivate": HR_OF_A,
    "workers.export": HR_PAGE,
    "imports.upload": HR_PAGE,
    "imports.template": HR_PAGE,
    "imports.preview": {**HR_OF_A},
    "imports.commit": {**HR_OF_A},
    "imports.problems": {**HR_OF_A},
    "apitokens.index": HR_PAGE,
    "apitokens.revoke": HR_OF_A,
    "api.openapi": PUBLIC,
    "api.list_workers": BEARER_ONLY,
    "api.create_worker": BEARER_ONLY,
    "api.get_worker": BEARER_ONLY,
    "api.update_worker": BEARER_ONLY,
    "api.deactivate_worker": BEARER_ONLY,
    "api.bulk_upsert": BEARER_ONLY,
    "passes.index": HR_PAGE,
    "passes.issue": HR_OF_A,
    "passes.confirm_issue": HR_OF_A,
    "passes.issue_all": HR_PAGE,
    "passes.confirm_issue_all": HR_PAGE,
    "passes.history": OVERSEERS_OF_A,
    "passes.reprint": HR_PAGE,
    "passes.print_chosen": HR_PAGE,
    "passes.print_sheet": HR_PAGE,
    "passes.pdf": OVERSEERS_OF_A,
    "passes.revoke": OVERSEERS_OF_A,
    "jobs.status": OWNER_OR_ADMIN,
    "jobs.download": OWNER_OR_ADMIN,
    "selfservice.lookup": PUBLIC,
    # Only the browser session that just proved the worker's details gets the card (tests/selfservice).
    "selfservice.card": dict.fromkeys(ROLES, "deny"),
    "selfservice.card_pdf": dict.fromkeys(ROLES, "deny"),
    "selfservice.card_png": dict.fromkeys(ROLES, "deny"),
    "verify.page": PUBLIC,
    "verify.json": PUBLIC,
    "verify.keys": PUBLIC,
    "verify.ping": PUBLIC,
    "verify.revocations": PUBLIC,
    "scanner.page": PUBLIC,
    "scanner.service_worker": PUBLIC,
    "scanner.manifest": PUBLIC,
    "scanner.revocations": PUBLIC,
    "scanner.counts": PUBLIC,
    "dashboard.index": OFFICIALS,
    "dashboard.report": OFFICIALS,
    "dashboard.report_pdf": OFFICIALS,
    "dashboard.report_xlsx": OFFICIALS,
    "dashboard.data_quality": EVERYONE_SIGNED_IN_BY_SCOPE,
    "eligibility.refresh": EVERYONE_SIGNED_IN_BY_SCOPE,
    "health.index": HEALTH_ONLY,
    "health.upload": HEALTH_ONLY,
    "health.preview": HEALTH_ONLY,
    "health.commit": HEALTH_ONLY,
    "health.job_status": HEALTH_ONLY,
    "health.token_list": HEALTH_ONLY,
    "health.token_revoke": HEALTH_ONLY,
    "health.conflicts": HEALTH_OVERSEERS,
    "health.workers": HR_PAGE,
    "health.accept": HEALTH_OR_HR_OF_A,
    "health_api.records": BEARER_ONLY,
}


@pytest.fixture
def app_config(app_config):
    # Seven roles sign in on one client, and each also posts to the login page: more than the ten a
    # minute one address may (the limit itself is tested in tests/auth).
    return {**app_config, "LOGIN_RATE_LIMIT": "100 per minute"}


def _objects(app, world) -> dict:
    """Create a pass, a finished print job, an import batch and an API token, all of enterprise A."""
    from portal.api.services import create_token
    from portal.enterprises.models import Enterprise
    from portal.health.models import HealthExtract
    from portal.health.tokens import create_token as create_health_token
    from portal.imports.checking import start_import
    from portal.jobs.models import Job
    from portal.jobs.services import enqueue
    from portal.passes.issuing import issue_pass

    registry = app.extensions["portal.plugins"].registry
    with app.test_request_context():
        session = db.session
        hr_a = session.scalar(select(User).where(User.email == world.hr_a))
        enterprise = session.get(Enterprise, world.enterprise_a)
        pass_ = issue_pass(session, registry, session.get(Worker, world.worker_a), hr_a)
        token, _secret = create_token(session, enterprise, "ERP", hr_a)
        row = ["1", "Lê Thị Mai", "02/03/1991", "Nữ", "079191123456", "0912345678", "1 Lê Văn Lương",
               "Tân Hưng", "Quận 7", "Công nhân", "Ca 1", "Pfizer", "01/07/2021", "Pfizer", "01/08/2021"]
        csv = (",".join(HEADERS) + "\r\n" + ",".join(row + [""] * (len(HEADERS) - len(row))) + "\r\n")
        batch = start_import(session, enterprise, hr_a, "list.csv", csv.encode("utf-8-sig"), registry=registry)
        job = enqueue(session, "print_sheet", {"enterprise_id": enterprise.id, "base_url": "http://localhost"},
                      user_id=hr_a.id, enterprise_id=enterprise.id)
        officer = session.scalar(select(User).where(User.email == world.health))
        extract = HealthExtract(kind="vaccination", source="file", filename="x.csv", status="committed",
                                created_by=officer, counts={}, problems=[])
        session.add(extract)
        session.flush()
        extract.job_id = enqueue(session, "health.check", {"extract_id": extract.id}, user_id=officer.id).id
        health_token, _secret = create_health_token(session, "HCDC", officer)
        session.commit()
        ids = {"enterprise_id": enterprise.id, "worker_id": world.worker_a, "pass_id": pass_.id,
               "token_id": token.id, "batch_id": batch.id, "job_id": job.id, "extract_id": extract.id}
        ids["health_token_id"] = health_token.id
    with app.app_context():
        assert db.session.get(Job, ids["job_id"]).status == "done"  # jobs run inline under TESTING
    return ids


def _url(rule, ids: dict) -> str:
    values = {"fmt": "csv", "code": "en", "filename": "css/portal.css", "token": "not-a-token", **ids}
    path = rule.rule
    for name in rule.arguments:
        path = re.sub(rf"<(?:[a-z]+:)?{name}>", str(values[name]), path)
    return path


def _classify(response) -> str:
    if response.status_code == 401:
        return "401"
    if response.status_code in (403, 404):
        return "deny"
    if response.status_code in (301, 302, 303) and "/login" in response.headers.get("Location", ""):
        return "login"
    return "ok"


def _endpoints(app):
    return sorted({rule.endpoint for rule in app.url_map.iter_rules()})


def test_every_route_has_a_declared_access_rule(app):
    served = set(_endpoints(app))
    assert served - EXPECTED.keys() == set(), "declare the access of these new routes in EXPECTED"
    assert EXPECTED.keys() - served == set(), "these declared routes no longer exist"


@pytest.mark.parametrize("endpoint", sorted(EXPECTED))
def test_route_allows_and_denies_each_role(app, client, auth, world, endpoint):
    ids = _objects(app, world)
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint]
    assert rules, endpoint
    for role in ROLES:  # anonymous first, on the fresh client
        if role != "anonymous":
            assert auth.login(getattr(world, role)).status_code == 302
        for rule in rules:
            url = _url(rule, ids)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                if method == "GET":
                    response = client.get(url)
                else:
                    response = client.open(url, method=method, data={"csrf_token": client.csrf_token()})
                outcome = _classify(response)
                response.close()  # file responses (PDF, downloads) hold their file open until closed
                assert outcome == EXPECTED[endpoint][role], (
                    f"{role} {method} {url}: got {response.status_code} ({outcome}), "
                    f"expected {EXPECTED[endpoint][role]}")
        if role != "anonymous":
            auth.logout()
