"""Preloaded by the print-sheet forkserver: WeasyPrint imported and warm before any worker is forked.

Importing this module is deliberately heavy (fonts loaded, a page laid out); only
``portal.printing.render._pool`` imports it, inside the forkserver process.
"""
from portal.printing.render import warm_up

warm_up()
