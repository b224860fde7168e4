-- Indexes only. The dispatcher looks for effects whose lease ran out on every claim; without an
-- index on running effects that look reads every unfinished effect, and is slowest exactly when
-- a backlog builds up (3.9 ms a claim with 20,000 effects pending; bench/README.md).
CREATE INDEX outbox_leases ON outbox (lease_until) WHERE status = 'running';
