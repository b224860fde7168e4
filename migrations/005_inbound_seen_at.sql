-- inbound_seen is pruned by age (deliveries older than the retention, app/jiraChange.ts): an
-- index on `at` keeps that a range delete instead of a scan.
CREATE INDEX inbound_seen_at ON inbound_seen (at);
