"""Tests of the observers: the auditor and the lag, against real databases."""
