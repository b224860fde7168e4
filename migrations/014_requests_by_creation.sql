-- Evidence exports (issue 19) read requests by creation time, a page at a time:
-- `access-bot export requests --from --to` keyset-pages over this index instead of sorting the
-- whole table for every page. Bundle parts are left out: they are exported with their bundle.
CREATE INDEX requests_created ON requests (created_at, id) WHERE part_of IS NULL;
