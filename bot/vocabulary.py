"""The words Lotse stores and every part reads alike: the roles people have and the vetting a
coordinator records for a guide.  One place, imported by the settings, the store, the router and
the dialogs; translations of them are in handlers/labels.py and the dialogs that ask for them."""

from __future__ import annotations

# Roles: people.role holds NEWCOMER or GUIDE; a coordinator is one by [roles] in the settings.
NEWCOMER, GUIDE, COORDINATOR = "newcomer", "guide", "coordinator"
EVERYONE = "everyone"  # a command's audience: any person
ROLES = (NEWCOMER, GUIDE)

# What [guides] require may ask of a guide before approval; the guides table has a date column each.
TRAINING, PLEDGE, POLICE_CERTIFICATE = "training", "pledge", "police_certificate"
VETTING = (TRAINING, PLEDGE, POLICE_CERTIFICATE)
