"""Payload adapters: each turns one tool's webhook format into Warroom's alert signals.

Adapters are pure (no storage, no web): `warroom.intake` authenticates, calls one, and runs
the signals through grouping. A new source is one more module returning `AlertSignal`s.
"""
