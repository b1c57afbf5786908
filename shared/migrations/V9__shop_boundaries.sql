-- Shop boundaries in the schema: every reference from one shop's row to another shop-owned
-- row carries tenant_id, so a row can only point at a row of the same shop, whatever the
-- application sends (row-level security hides foreign rows from reads, but a plain foreign
-- key on `id` accepted another shop's id on writes). Each referenced table gets a unique
-- key (tenant_id, id); each reference becomes a foreign key on (tenant_id, <column>).
-- ON DELETE SET NULL names its column only (PostgreSQL 15), so tenant_id stays.
-- handlers/tests/api/api_hardening.rs walks information_schema and fails on a foreign key
-- between shop-owned tables that does not include tenant_id.

-- References that already cross shops (possible before this migration through a category id
-- of another shop) are cleared first; the nullable ones lose the foreign reference.
UPDATE catalog_items i SET category_id = NULL
 WHERE category_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM categories c WHERE c.id = i.category_id AND c.tenant_id = i.tenant_id);
UPDATE order_items o SET catalog_item_id = NULL
 WHERE catalog_item_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM catalog_items c WHERE c.id = o.catalog_item_id AND c.tenant_id = o.tenant_id);
UPDATE messages m SET answered_by_turn = NULL
 WHERE answered_by_turn IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM agent_turns t WHERE t.id = m.answered_by_turn AND t.tenant_id = m.tenant_id);
UPDATE orders o SET conversation_id = NULL
 WHERE conversation_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.id = o.conversation_id AND c.tenant_id = o.tenant_id);
UPDATE return_requests r SET conversation_id = NULL
 WHERE conversation_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.id = r.conversation_id AND c.tenant_id = r.tenant_id);
UPDATE hook_deliveries h SET order_id = NULL
 WHERE order_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = h.order_id AND o.tenant_id = h.tenant_id);
UPDATE usage_events u SET conversation_id = NULL
 WHERE conversation_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.id = u.conversation_id AND c.tenant_id = u.tenant_id);
UPDATE usage_events u SET turn_id = NULL
 WHERE turn_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM agent_turns t WHERE t.id = u.turn_id AND t.tenant_id = u.tenant_id);

-- The keys the references point at.
ALTER TABLE users         ADD CONSTRAINT users_tenant_id_id_key         UNIQUE (tenant_id, id);
ALTER TABLE categories    ADD CONSTRAINT categories_tenant_id_id_key    UNIQUE (tenant_id, id);
ALTER TABLE catalog_items ADD CONSTRAINT catalog_items_tenant_id_id_key UNIQUE (tenant_id, id);
ALTER TABLE conversations ADD CONSTRAINT conversations_tenant_id_id_key UNIQUE (tenant_id, id);
ALTER TABLE agent_turns   ADD CONSTRAINT agent_turns_tenant_id_id_key   UNIQUE (tenant_id, id);
ALTER TABLE orders        ADD CONSTRAINT orders_tenant_id_id_key        UNIQUE (tenant_id, id);
ALTER TABLE kb_documents  ADD CONSTRAINT kb_documents_tenant_id_id_key  UNIQUE (tenant_id, id);

-- Merchant sessions: a session of a shop names a user of that shop (admin sessions have no
-- tenant and no user; MATCH SIMPLE skips the check when tenant_id is NULL).
ALTER TABLE sessions DROP CONSTRAINT sessions_user_id_fkey,
    ADD CONSTRAINT sessions_tenant_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE;

ALTER TABLE catalog_items DROP CONSTRAINT catalog_items_category_id_fkey,
    ADD CONSTRAINT catalog_items_tenant_category_fkey FOREIGN KEY (tenant_id, category_id)
        REFERENCES categories (tenant_id, id) ON DELETE SET NULL (category_id);

ALTER TABLE agent_turns DROP CONSTRAINT agent_turns_conversation_id_fkey,
    ADD CONSTRAINT agent_turns_tenant_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES conversations (tenant_id, id) ON DELETE CASCADE;

ALTER TABLE messages DROP CONSTRAINT messages_conversation_id_fkey,
    DROP CONSTRAINT messages_answered_by_turn_fkey,
    ADD CONSTRAINT messages_tenant_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES conversations (tenant_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT messages_tenant_answered_by_turn_fkey FOREIGN KEY (tenant_id, answered_by_turn)
        REFERENCES agent_turns (tenant_id, id) ON DELETE SET NULL (answered_by_turn);

ALTER TABLE inbound_events DROP CONSTRAINT inbound_events_conversation_id_fkey,
    ADD CONSTRAINT inbound_events_tenant_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES conversations (tenant_id, id) ON DELETE CASCADE;

ALTER TABLE outbound_messages DROP CONSTRAINT outbound_messages_conversation_id_fkey,
    ADD CONSTRAINT outbound_messages_tenant_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES conversations (tenant_id, id) ON DELETE CASCADE;

ALTER TABLE orders DROP CONSTRAINT orders_conversation_id_fkey,
    ADD CONSTRAINT orders_tenant_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES conversations (tenant_id, id) ON DELETE SET NULL (conversation_id);

ALTER TABLE order_items DROP CONSTRAINT order_items_order_id_fkey,
    DROP CONSTRAINT order_items_catalog_item_id_fkey,
    ADD CONSTRAINT order_items_tenant_order_fkey FOREIGN KEY (tenant_id, order_id)
        REFERENCES orders (tenant_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT order_items_tenant_catalog_item_fkey FOREIGN KEY (tenant_id, catalog_item_id)
        REFERENCES catalog_items (tenant_id, id) ON DELETE SET NULL (catalog_item_id);

ALTER TABLE order_status_history DROP CONSTRAINT order_status_history_order_id_fkey,
    ADD CONSTRAINT order_status_history_tenant_order_fkey FOREIGN KEY (tenant_id, order_id)
        REFERENCES orders (tenant_id, id) ON DELETE CASCADE;

ALTER TABLE return_requests DROP CONSTRAINT return_requests_order_id_fkey,
    DROP CONSTRAINT return_requests_conversation_id_fkey,
    ADD CONSTRAINT return_requests_tenant_order_fkey FOREIGN KEY (tenant_id, order_id)
        REFERENCES orders (tenant_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT return_requests_tenant_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES conversations (tenant_id, id) ON DELETE SET NULL (conversation_id);

ALTER TABLE kb_chunks DROP CONSTRAINT kb_chunks_document_id_fkey,
    ADD CONSTRAINT kb_chunks_tenant_document_fkey FOREIGN KEY (tenant_id, document_id)
        REFERENCES kb_documents (tenant_id, id) ON DELETE CASCADE;

ALTER TABLE hook_deliveries DROP CONSTRAINT hook_deliveries_order_id_fkey,
    ADD CONSTRAINT hook_deliveries_tenant_order_fkey FOREIGN KEY (tenant_id, order_id)
        REFERENCES orders (tenant_id, id) ON DELETE SET NULL (order_id);

ALTER TABLE usage_events DROP CONSTRAINT usage_events_conversation_id_fkey,
    DROP CONSTRAINT usage_events_turn_id_fkey,
    ADD CONSTRAINT usage_events_tenant_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES conversations (tenant_id, id) ON DELETE SET NULL (conversation_id),
    ADD CONSTRAINT usage_events_tenant_turn_fkey FOREIGN KEY (tenant_id, turn_id)
        REFERENCES agent_turns (tenant_id, id) ON DELETE SET NULL (turn_id);

ALTER TABLE conversation_events DROP CONSTRAINT conversation_events_conversation_id_fkey,
    ADD CONSTRAINT conversation_events_tenant_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES conversations (tenant_id, id) ON DELETE CASCADE;

-- Meta's callbacks: each signed_request is recorded by its hash, so the same request
-- replayed is answered with its first confirmation code and not acted on again.
ALTER TABLE data_deletion_requests ADD COLUMN request_hash bytea;
CREATE UNIQUE INDEX data_deletion_requests_request_hash_key ON data_deletion_requests (request_hash);
