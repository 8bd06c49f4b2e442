"""The portal's conformance suite for unit plugins, run for hitech_park."""
from portal.testing.conformance import UnitConformance


class TestHitechParkConformance(UnitConformance):
    unit_code = "hitech_park"
