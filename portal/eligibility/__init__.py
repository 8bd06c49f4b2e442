"""Who may hold a green card: the facts a unit's rules see, the snapshot of their answers, its upkeep.

* :mod:`.facts` turns a stored worker into :class:`~portal.plugins.types.WorkerFacts` and asks the
  worker's unit (:func:`~.facts.evaluate`); a unit that is not active answers "not eligible".
* :mod:`.models` holds the snapshot: one row per active worker with the last answer.
* :mod:`.upkeep` keeps it current: the receivers of worker and enterprise changes (wired in
  :mod:`portal.wiring`), the daily ``portal eligibility refresh`` and the refresh job.
* :mod:`.summaries` reads it: an enterprise's figures, how current a unit's rows are.

Pages read the snapshot (filtered, counted and paged in SQL); only issuing a card asks the rules live.
"""
