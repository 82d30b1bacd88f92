"""Cross-system diagnosis: one corrected timeline from many logs, its onset and its suspects.

The standalone ``warroom analyze`` command lives in :mod:`warroom.diagnosis.cli`; the pipeline
in :mod:`warroom.diagnosis.analyze` needs no server and no database.
"""
