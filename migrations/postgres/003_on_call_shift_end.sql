-- On-call approval (issue 21): migrations/016_on_call_shift_end.sql on Postgres. A request
-- approved because its requester is on call ends no later than the end of that shift.
ALTER TABLE requests ADD COLUMN ends_by BIGINT;
