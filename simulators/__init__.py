"""Simulated rooms: physiology models, scenarios, and emulators that speak device bytes."""
