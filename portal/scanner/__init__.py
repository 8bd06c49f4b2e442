"""The checkpoint scanner: an installable page that verifies green cards with no network."""
