"""Bulk import of workers from a CSV or XLSX file: upload, preview, commit (HR of the enterprise only)."""
from __future__ import annotations

import posixpath

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.auth.access import can_manage_workers, role_required
from portal.auth.models import Role
from portal.extensions import db, limiter
from portal.imports import batches, checking, committing, report, settings
from portal.imports.forms import CommitForm, UploadForm
from portal.imports.models import ImportBatch
from portal.imports.parsing import ImportFileError, file_too_large, human_size
from portal.imports.template import template_csv, template_xlsx
from portal.jobs.models import Job
from portal.messages import Refusal, notice_markup, take_notices
from portal.pagination import Page
from portal.plugins import current_registry
from portal.security import page_number

bp = Blueprint("imports", __name__, template_folder="templates")

PAGE_SIZE = 100
#: Checking a file costs seconds and memory: per account and per address (IMPORT_UPLOAD_RATE_LIMIT).
DEFAULT_UPLOAD_RATE_LIMIT = "10 per minute;60 per hour"
#: The tabs of the preview: which rows each one lists.
VIEWS = {"problems": ("error", "conflict"), "create": ("create",), "update": ("update",),
         "unchanged": ("unchanged",)}
NO_STORE = {"Cache-Control": "no-store, max-age=0"}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/workers/import/template.xlsx", defaults={"fmt": "xlsx"})
@bp.get("/workers/import/template.csv", defaults={"fmt": "csv"})
@role_required(Role.HR)
def template(fmt: str):
    """Download the worker-list template with the Vietnamese headers and an example row."""
    if fmt == "csv":
        body, mimetype = template_csv(), "text/csv; charset=utf-8"
    else:
        body, mimetype = template_xlsx(current_registry()), XLSX_TYPE
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename=mau_danh_sach_nguoi_lao_dong.{fmt}"
    return response


def _upload_limit() -> str:
    return current_app.config.get("IMPORT_UPLOAD_RATE_LIMIT") or DEFAULT_UPLOAD_RATE_LIMIT


def _uploader_key() -> str:
    return f"import-upload:{current_user.id if current_user.is_authenticated else request.remote_addr}"


@bp.route("/workers/import", methods=["GET", "POST"])
@limiter.limit(_upload_limit, methods=["POST"], key_func=_uploader_key)
@limiter.limit(_upload_limit, methods=["POST"])
@role_required(Role.HR)
def upload():
    """Take a worker list and check it; the preview shows what importing it would do."""
    enterprise = _own_enterprise()
    form = UploadForm()
    status = 200
    if form.validate_on_submit():
        upload_file = form.file.data
        try:
            data = _read_limited(upload_file.stream, settings.limits().max_bytes)
            batch = checking.start_import(db.session, enterprise, current_user, _base_name(upload_file.filename),
                                          data, registry=current_registry())
            db.session.commit()
        except ImportFileError as refusal:
            db.session.rollback()
            form.file.errors.append(str(refusal))
            status = 422
        else:
            return redirect(url_for(".preview", batch_id=batch.id))
    elif request.method == "POST":
        status = 422
    recent = db.session.scalars(
        select(ImportBatch).where(ImportBatch.user_id == current_user.id,
                                  ImportBatch.enterprise_id == enterprise.id)
        .order_by(ImportBatch.created_at.desc(), ImportBatch.id.desc()).limit(10)
    ).all()
    limits = settings.limits()
    return render_template("imports/upload.html", form=form, recent=recent, enterprise=enterprise,
                           max_size=human_size(limits.max_bytes), max_rows=limits.max_rows), status


@bp.get("/workers/import/<int:batch_id>")
@role_required(Role.HR)
def preview(batch_id: int):
    """Show what the import would do (or did): counts, notices and the rows of one kind, page by page."""
    batch = _batch_or_404(batch_id)
    job = db.session.get(Job, batch.job_id) if batch.job_id else None
    entries = batch.report() if batch.report_data else []
    show = request.args.get("show") or ("problems" if batch.problem_count else "create")
    if show not in VIEWS:
        show = "problems"
    rows = [entry for entry in entries if entry["action"] in VIEWS[show]]
    page = Page.of(rows, page_number(request.args), PAGE_SIZE)
    response = current_app.make_response(render_template(
        "imports/preview.html", batch=batch, job=job, show=show, page=page, form=CommitForm(),
        header=lambda name: report.column_header(batch, name), fields=report.row_fields(batch, current_registry()),
    ))
    response.headers.update(NO_STORE)
    return response


@bp.post("/workers/import/<int:batch_id>/commit")
@role_required(Role.HR)
def commit(batch_id: int):
    """Write the checked batch: all rows or none, or the valid rows only when the user ticked that."""
    batch = _batch_or_404(batch_id)
    form = CommitForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        outcome = committing.commit_now(db.session, current_registry(), batch, current_user,
                                        valid_only=bool(form.valid_only.data))
    except Refusal as refusal:
        db.session.rollback()
        flash(str(refusal), "error")
        return redirect(url_for(".preview", batch_id=batch_id))
    db.session.commit()  # the rows written, or the batch kept ready with the reason (its page shows it)
    if outcome.written:
        flash(str(committing.written_message(batch)), "success")
    for notice in take_notices(db.session):  # e.g. cards replaced by the new data: print them again
        flash(notice_markup(notice), "warning")
    return redirect(url_for(".preview", batch_id=batch_id))


@bp.get("/workers/import/<int:batch_id>/problems.csv")
@role_required(Role.HR)
def problems(batch_id: int):
    """Download every problem of the batch as a CSV file (row, column, message)."""
    batch = _batch_or_404(batch_id)
    if batch.report_data is None:
        abort(404)
    response = current_app.response_class(report.problems_csv(batch),
                                          mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f"attachment; filename=loi_nhap_danh_sach_{batch.id}.csv"
    response.headers.update(NO_STORE)
    return response


# -- helpers ---------------------------------------------------------------------------------------------

def _own_enterprise():
    enterprise = current_user.enterprise
    if not can_manage_workers(current_user, enterprise):
        abort(404)
    return enterprise


def _batch_or_404(batch_id: int) -> ImportBatch:
    batch = batches.get_batch_for(db.session, current_user, batch_id)
    if batch is None:
        abort(404)
    return batch


def _read_limited(stream, max_bytes: int) -> bytes:
    """Read at most ``max_bytes`` (one more tells that the file is too large) instead of the whole upload."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise file_too_large(settings.limits())
    return data


def _base_name(filename: str | None) -> str:
    # Some browsers send the full Windows path; keep what the user would recognise.
    return posixpath.basename((filename or "").replace("\\", "/")).strip() or "upload"
