"""Test support shipped with the portal, so unit plugins' own tests can use the same fixtures."""
