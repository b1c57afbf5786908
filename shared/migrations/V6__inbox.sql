-- The merchant's inbox: who is waiting for a person, closed conversations, and the thread's
-- events that are not messages (internal notes, handoffs, mode changes, closing/reopening).
--
-- `needs_human`: the AI handed the conversation to a person and no person has answered yet
-- (set by a handoff; cleared by a reply from the dashboard or the Instagram app, a handback
-- or closing). The inbox lists these first.
-- `closed_at`: the merchant closed the conversation. A customer message after it opens it
-- again by itself (state = closed only while closed_at >= last_customer_message_at), so the
-- webhook path needs no change for it.
ALTER TABLE conversations
    ADD COLUMN needs_human boolean NOT NULL DEFAULT false,
    ADD COLUMN closed_at   timestamptz;

CREATE TABLE conversation_events (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    conversation_id    uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    kind               text NOT NULL CHECK (kind IN ('note', 'handoff', 'mode_change', 'closed', 'reopened')),
    author             text NOT NULL CHECK (author IN ('ai', 'merchant', 'merchant_app', 'system')),
    text               text,
    at                 timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversation_events_thread_idx ON conversation_events (tenant_id, conversation_id, at);

ALTER TABLE conversation_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE conversation_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON conversation_events TO igshop_app_rw
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
CREATE POLICY platform_all ON conversation_events TO igshop_platform USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON conversation_events TO igshop_app_rw;

-- A merchant deletes their own shop from the app ("My data"): the tenant policy already
-- limits the application to its own row; every tenant-owned row goes with it (ON DELETE
-- CASCADE), in the shop's own transaction.
GRANT DELETE ON tenants TO igshop_app_rw;
