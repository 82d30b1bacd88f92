"""The service catalog: teams, services, and the dependency graph between services."""
