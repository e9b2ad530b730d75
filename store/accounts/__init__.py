"""Who may do what: users, API tokens, web sessions, login throttling, and the units
(the district's offices and communes) that accounts and records belong to."""
