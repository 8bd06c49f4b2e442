"""In-process signals between features (blinker), sent inside the transaction that makes the change.

Receivers run synchronously with the sender's session and must not commit: the change and its
consequences (a pass revoked, a new pass version, an eligibility snapshot) land together or not at all.
Plugins hear about events through their own hooks (portal_enterprise_approved, ...), after the commit.

Every signal carries ``session`` (the sender's) and ``registry`` (the unit registry the sender was
given), so receivers ask the same rules the sender did and never reach for the app's globals.
"""
from blinker import Namespace

_signals = Namespace()

#: sender: the Enterprise; kwargs: session, registry, actor (User or None), before (status), after
#: (status), reason (the official's words, or None)
enterprise_status_changed = _signals.signal("enterprise-status-changed")

#: sender: the Enterprise, whose unit, business type or sector changed; kwargs: session, registry, actor
enterprise_reclassified = _signals.signal("enterprise-reclassified")

#: sender: the Enterprise; kwargs: session, registry, actor, worker_ids (list[int]) created or changed
#: in one operation
workers_changed = _signals.signal("workers-changed")

#: sender: the Enterprise; kwargs: session, registry, actor, worker_ids (list[int]) deactivated, reason
#: (the words HR gave)
workers_deactivated = _signals.signal("workers-deactivated")
