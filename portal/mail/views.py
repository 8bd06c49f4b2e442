from flask import Blueprint, render_template, request

from portal.auth.access import role_required
from portal.auth.models import Role
from portal.extensions import db
from portal.mail import services
from portal.mail.models import MailStatus
from portal.pagination import Page
from portal.security import page_number

bp = Blueprint("mail", __name__, template_folder="templates")

PER_PAGE = 25
MAX_PAGE = 100_000


@bp.get("/admin/mail")
@role_required(Role.ADMIN)
def outbox():
    """Show the city's admin the mails the portal wrote, newest first (the embedded default's mailbox)."""
    page = min(page_number(request.args), MAX_PAGE)
    to = (request.args.get("to") or "").strip()[:254] or None
    total = services.count_mails(db.session, to=to)
    mails = services.latest_mails(db.session, limit=PER_PAGE, offset=(page - 1) * PER_PAGE, to=to)
    return render_template("mail/outbox.html", mails=mails, page=Page(mails, page, PER_PAGE, total), to=to,
                           smtp=services.sends_over_smtp(), statuses=MailStatus)
