"""The officials' oversight pages: the pilot dashboard, the evaluation report and data quality."""
from __future__ import annotations

import io
from datetime import timedelta

from flask import Blueprint, abort, current_app, render_template, request, send_file, url_for
from flask_babel import force_locale
from flask_login import current_user

from portal import clock, vocabulary
from portal.auth.access import role_required
from portal.auth.models import Role
from portal.dashboard import figures as counting
from portal.dashboard import quality, report
from portal.dashboard.scope import Scope, all_units, resolve_scope, scope_units
from portal.eligibility.summaries import enterprise_eligibility, unit_freshness
from portal.enterprises.access import get_visible_enterprise_or_404
from portal.errors import render_error
from portal.extensions import db
from portal.messages import Refusal
from portal.plugins import current_registry
from portal.security import id_arg, page_number

bp = Blueprint("dashboard", __name__, template_folder="templates")
bp.add_app_template_filter(report.format_count, "dashboard_count")
bp.add_app_template_filter(report.format_share, "dashboard_share")

#: Exported documents are forwarded inside Vietnam's administration: always in Vietnamese.
EXPORT_LOCALE = "vi"


def _scope():
    """Return the scope the user may see and, for an admin who asked for an unknown unit, a message."""
    try:
        return resolve_scope(db.session, current_user, request.args.get("unit")), None
    except Refusal as refusal:
        return Scope(None), str(refusal)


def _unit_choices():
    return all_units(db.session, current_registry()) if current_user.is_admin else []


@bp.get("/dashboard")
@role_required(Role.OFFICIAL, Role.ADMIN)
def index():
    """Show the pilot's figures for the official's unit, or the city with a per-unit breakdown."""
    scope, error = _scope()
    now = clock.utcnow()
    today = clock.local_today(now)
    figures = counting.collect_figures(db.session, current_registry(), scope, now=now,
                                       first_day=today - timedelta(days=counting.SCAN_DAYS - 1), last_day=today)
    return render_template("dashboard/index.html", figures=figures, scope_error=error, units=_unit_choices(),
                           view=report.DashboardPage(figures, current_registry()))


def _report_request():
    """Return (scope, scope error, period, period errors) from the query string."""
    scope, scope_error = _scope()
    period, errors = report.parse_period(request.args.get("from"), request.args.get("to"), clock.local_today())
    return scope, scope_error, period, errors


def _report_figures(scope, period):
    return counting.collect_figures(db.session, current_registry(), scope, now=clock.utcnow(),
                                    first_day=period.first, last_day=period.last, by_sector=True, flows=True,
                                    confirmed_now=False)


@bp.get("/dashboard/report", endpoint="report")  # the function's name would hide the report module
@role_required(Role.OFFICIAL, Role.ADMIN)
def report_page():
    """Let an official choose a period and see, then download, the evaluation report."""
    scope, scope_error, period, errors = _report_request()
    figures = _report_figures(scope, period)
    tables = report.report_tables(figures, current_registry())
    query = {"from": clock.format_date(period.first), "to": clock.format_date(period.last)}
    if scope.unit is not None and current_user.is_admin:
        query["unit"] = scope.unit.code
    return render_template("dashboard/report.html", figures=figures, period=period, tables=tables,
                           errors=errors, scope_error=scope_error, units=_unit_choices(), query=query,
                           form=request.args, heading=report.heading(figures, period),
                           scan_chart=report.scan_chart(figures), eligibility_chart=report.eligibility_chart(figures),
                           confirmed_chart=report.confirmed_chart(figures))


def _document(extension: str, render, mimetype: str):
    scope, scope_error, period, errors = _report_request()
    if scope_error or errors:
        return render_error(400, scope_error or next(iter(errors.values())))
    with force_locale(EXPORT_LOCALE):
        figures = _report_figures(scope, period)
        body = render(figures, period, report.report_tables(figures, current_registry()))
        name = report.file_name(figures, period, extension)
    response = send_file(io.BytesIO(body), mimetype=mimetype, as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/dashboard/report.pdf")
@role_required(Role.OFFICIAL, Role.ADMIN)
def report_pdf():
    """Download the evaluation report as a PDF, ready to forward."""
    return _document("pdf", report.render_pdf, "application/pdf")


@bp.get("/dashboard/report.xlsx")
@role_required(Role.OFFICIAL, Role.ADMIN)
def report_xlsx():
    """Download the evaluation report as a workbook, one sheet per table."""
    return _document("xlsx", report.render_xlsx,
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _page_number() -> int:
    return page_number(request.args)


def worker_edit_url(worker_id: int) -> str | None:
    """Return the workers feature's edit page for a worker, when the running app has one."""
    rules = list(current_app.url_map.iter_rules("workers.edit")) if "workers.edit" in current_app.view_functions \
        else []
    if len(rules) != 1 or len(rules[0].arguments) != 1:
        return None
    (argument,) = rules[0].arguments
    return url_for("workers.edit", **{argument: worker_id})


@bp.get("/dashboard/data-quality")
@role_required(Role.HR, Role.OFFICIAL, Role.ADMIN)
def data_quality():
    """List the workers whose records block eligibility: HR their own, officials their unit's, the admin all."""
    registry, now = current_registry(), clock.utcnow()
    if current_user.is_hr:
        return _enterprise_issues(current_user.enterprise, registry, now)
    if request.args.get("enterprise"):
        enterprise_id = id_arg(request.args, "enterprise")
        if enterprise_id is None:
            abort(404)
        return _enterprise_issues(get_visible_enterprise_or_404(db.session, enterprise_id), registry, now)
    scope, error = _scope()
    today = clock.local_today(now)
    freshness = [unit_freshness(db.session, unit, today) for unit in scope_units(db.session, registry, scope)]
    summary = quality.issues_by_enterprise(db.session, scope, page=_page_number())
    return render_template("dashboard/data_quality.html", scope=scope, scope_error=error, units=_unit_choices(),
                           summary=summary, freshness=freshness, issue_labels=vocabulary.RECORD_ISSUE_LABELS)


def _enterprise_issues(enterprise, registry, now):
    freshness = enterprise_eligibility(db.session, registry, enterprise, clock.local_today(now))
    page = quality.workers_with_issues(db.session, enterprise.id, page=_page_number())
    return render_template("dashboard/data_quality_enterprise.html", enterprise=enterprise, page=page,
                           freshness=freshness, show_full_id=current_user.is_hr,
                           issue_labels=vocabulary.RECORD_ISSUE_LABELS,
                           edit_url=worker_edit_url if current_user.is_hr else None)
