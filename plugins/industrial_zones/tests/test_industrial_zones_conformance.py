"""The portal's conformance suite for unit plugins, run for industrial_zones."""
from portal.testing.conformance import UnitConformance


class TestIndustrialZonesConformance(UnitConformance):
    unit_code = "industrial_zones"
