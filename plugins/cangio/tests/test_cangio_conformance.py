"""The portal's conformance suite for unit plugins, run for cangio."""
from portal.testing.conformance import UnitConformance


class TestCangioConformance(UnitConformance):
    unit_code = "cangio"
