"""Alert intake: integrations, alerts, grouping into incidents, dead letters, replay."""
