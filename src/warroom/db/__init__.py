"""Storage plumbing: declarative base, engines per dialect, unit of work, migrations."""
