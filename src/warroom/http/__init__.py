"""Web plumbing shared by every domain: dependencies, problems, CSRF, templates, limits."""
