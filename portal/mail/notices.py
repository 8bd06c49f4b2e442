"""Mails that tell people what happened: receivers of portal.events, connected in portal.wiring.

They run inside the sender's transaction: the mail is written (and, with a mail server, queued)
only if the change commits.
"""
from __future__ import annotations

from sqlalchemy import select

from portal.mail.services import external_url, queue_mail

#: Enterprise statuses whose HR accounts are told, and the template telling them.
STATUS_NOTICES = {
    "approved": "mail/enterprise_approved",
    "rejected": "mail/enterprise_rejected",
    "suspended": "mail/enterprise_suspended",
}


def _hr_accounts(session, enterprise_id: int):
    from portal.auth.models import Role, User

    return session.scalars(select(User).where(
        User.enterprise_id == enterprise_id, User.role == Role.HR.value, User.is_enabled.is_(True),
        User.email_confirmed_at.is_not(None)).order_by(User.id)).all()


def on_enterprise_status_changed(enterprise, *, session, actor=None, before=None, after=None, reason=None,
                                 **_ignored) -> None:
    """Mail the enterprise's HR accounts when it is approved (or reinstated), rejected or suspended."""
    template = STATUS_NOTICES.get(after)
    if template is None or before == after:
        return
    link = external_url("enterprises.mine")
    for user in _hr_accounts(session, enterprise.id):
        queue_mail(session, to=user.email, template=template, locale=user.locale, user_id=user.id,
                   kind=f"enterprise.{after}",
                   context={"user": user, "enterprise": enterprise, "reason": reason, "link": link,
                            "reinstated": before == "suspended"})


def on_print_sheet_ready(enterprise_id, *, session, job_id: int, user_id: int | None, count: int,
                         base_url: str | None = None, **_ignored) -> None:
    """Mail whoever asked for a print sheet the link to it once it is ready."""
    from portal.auth.models import User

    user = session.get(User, user_id) if user_id else None
    if user is None or not user.is_active or not user.email_confirmed or not count:
        return
    link = external_url("jobs.status", job_id=job_id, base_url=base_url)
    queue_mail(session, to=user.email, template="mail/print_sheet_ready", locale=user.locale, user_id=user.id,
               kind="passes.print_sheet_ready", context={"user": user, "count": count, "link": link})
