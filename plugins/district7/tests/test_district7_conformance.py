"""The portal's conformance suite for unit plugins, run for district7."""
from portal.testing.conformance import UnitConformance


class TestDistrict7Conformance(UnitConformance):
    unit_code = "district7"
