"""The portal's conformance suite for unit plugins, run for cugi."""
from portal.testing.conformance import UnitConformance


class TestCugiConformance(UnitConformance):
    unit_code = "cugi"
