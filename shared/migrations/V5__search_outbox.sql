-- Search, external backend (SEARCH_BACKEND=azure): the catalog items whose document in the
-- external index is out of date. A catalog write records its items here in its own
-- transaction, so a change that commits is never forgotten and one that rolls back queues
-- nothing; the API pushes a shop's entries right after the commit and the sweeper pushes
-- whatever is left (see shared/src/search/pending.rs). The Postgres backend needs none of
-- this: it writes catalog_items.search_text in the same transaction.
--
-- There is no "operation" column: the push reads the item as it is then (present and active:
-- upload; deleted or inactive: delete), so entries cannot be applied out of order.
-- `generation` grows with every new write of the item, so a push only deletes the entry it
-- pushed, never one queued by a write that happened meanwhile. `claimed_until` is the lease of
-- a push in flight (no second pusher can send an older state after a newer one);
-- `next_attempt_at` the back-off after failures.
CREATE TABLE search_index_pending (
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    item_id            uuid NOT NULL,
    generation         bigint NOT NULL DEFAULT 1,
    queued_at          timestamptz NOT NULL DEFAULT now(),
    attempts           integer NOT NULL DEFAULT 0,
    next_attempt_at    timestamptz NOT NULL DEFAULT now(),
    claimed_until      timestamptz,
    last_error         text,
    PRIMARY KEY (tenant_id, item_id)
);
CREATE INDEX search_index_pending_due_idx ON search_index_pending (next_attempt_at);

ALTER TABLE search_index_pending ENABLE ROW LEVEL SECURITY;
ALTER TABLE search_index_pending FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON search_index_pending TO igshop_app_rw
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
CREATE POLICY platform_all ON search_index_pending TO igshop_platform USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON search_index_pending TO igshop_app_rw;
