"""In-process signals between features (blinker), sent inside the transaction that makes the change.

Receivers run synchronously with the sender's session and must not commit: the change and its
consequences (a pass revoked, a new pass version, an eligibility snapshot) land together or not at all.
Plugins hear about events through their own hooks (portal_enterprise_approved, ...), after the commit.
"""
from blinker import Namespace

_signals = Namespace()

#: sender: the Enterprise; kwargs: session, actor (User or None), before (status), after (status), reason
enterprise_status_changed = _signals.signal("enterprise-status-changed")

#: sender: the Enterprise; kwargs: session, actor, worker_ids (list[int]) created or changed in one operation
workers_changed = _signals.signal("workers-changed")

#: sender: the Enterprise; kwargs: session, actor, worker_ids (list[int]) deactivated, reason (str)
workers_deactivated = _signals.signal("workers-deactivated")

#: sender: the enterprise id; kwargs: session (the job's), job_id, user_id (who asked), count (cards),
#: base_url. Sent by the print-sheet job once its file is written; the job commits after it.
print_sheet_ready = _signals.signal("print-sheet-ready")
