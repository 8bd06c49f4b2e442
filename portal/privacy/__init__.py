"""End of the pilot: erase workers' personal data everywhere, keep the figures of the evaluation report."""
