"""Scheduling: reminder time maths, the sweep that claims due rows, APScheduler wiring."""
