"""Who is who, for incidents: people and service owners, read through their own domains.

Incidents need a person's name, role and whether they are disabled (to assign roles and show
them), and which team members own a service (to suggest responders), inside the caller's
session; accounts and catalog expose exactly that as session-level queries.
"""

from __future__ import annotations

from warroom.accounts.queries import people_by_id_in, person_by_email_in
from warroom.accounts.schemas import PersonRef as Person
from warroom.catalog.queries import owning_team_members_in

__all__ = ["Person", "owning_team_members_in", "people_by_id_in", "person_by_email_in"]
