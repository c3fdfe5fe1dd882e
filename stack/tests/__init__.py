"""Tests that start real servers to prove the stack modules work."""
