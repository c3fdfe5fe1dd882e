"""Test support shared by both services' test suites; never imported by app code."""
