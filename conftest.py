pytest_plugins = ["portal.testing.fixtures"]
