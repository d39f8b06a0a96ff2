-- The staff People filters for statuses few people hold (pending, said no, blocked) start
-- from those few instead of walking everyone in name order (portal/db/people.py search).
-- Partial indexes, one per such status: an index over every status (or everyone's blocked
-- flag) would tempt the planner away from the name order for the many who are allowed.
CREATE INDEX consent_state_pending ON consent_state (person_id) WHERE status = 'pending';
CREATE INDEX consent_state_opted_out ON consent_state (person_id) WHERE status = 'opted_out';
CREATE INDEX people_blocked ON people (id) WHERE blocked = 1;
