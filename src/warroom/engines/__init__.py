"""Pure analytical engines: stdlib and numpy in, dataclasses out.

Nothing here imports the web, the database or the CLI (enforced by import-linter).
"""
