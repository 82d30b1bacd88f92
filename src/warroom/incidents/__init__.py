"""Incidents: lifecycle, roles, decisions, scope, assumptions, hypotheses, workstreams, updates."""
