"""The verification feature's commands: signing keys and offline checks (defined in portal.tokens.cli)."""
from portal.tokens.cli import commands  # noqa: F401
