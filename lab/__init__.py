"""The lab: scenarios run through the real APIs and processes, measured."""
