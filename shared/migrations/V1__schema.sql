-- IG-Shop-Agent schema, version 1: every table of the architecture, with row-level security.
--
-- Roles (cluster-wide, created idempotently):
--   igshop_app_rw   - granted to the application login (DATABASE_URL). No BYPASSRLS. Sees a
--                     tenant-owned row only when the transaction's app.tenant_id names its tenant.
--   igshop_platform - granted to the login that runs migrations (DATABASE_ADMIN_URL). A policy
--                     lets it see every tenant (admin console, nightly jobs) without needing the
--                     BYPASSRLS attribute, which managed Postgres services do not hand out.
-- Roles are cluster-wide: two databases migrating at once may race to create them.
DO $$
BEGIN
    BEGIN
        CREATE ROLE igshop_app_rw NOLOGIN NOBYPASSRLS;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
    BEGIN
        CREATE ROLE igshop_platform NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
END
$$;

-- The tenant of the current transaction, or NULL (which matches no row) when none is set.
CREATE FUNCTION app_current_tenant() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$;

-- ---------------------------------------------------------------- tenants and people
CREATE TABLE tenants (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    ig_user_id         text UNIQUE,             -- professional account id (> 2^53: text)
    ig_handle          text,                    -- normalised: lower case, no '@'
    display_name       text,
    status             text NOT NULL DEFAULT 'active'
                       CHECK (status IN ('active', 'reconnect_needed', 'disabled')),
    locale             text NOT NULL DEFAULT 'ar' CHECK (locale IN ('ar', 'en')),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX tenants_ig_handle_key ON tenants (ig_handle) WHERE ig_handle IS NOT NULL;

CREATE TABLE users (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    ig_user_id         text,
    username           text NOT NULL,
    role               text NOT NULL DEFAULT 'owner' CHECK (role IN ('owner', 'staff')),
    created_at         timestamptz NOT NULL DEFAULT now(),
    last_login_at      timestamptz,
    UNIQUE (tenant_id, username)
);

CREATE TABLE admin_users (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email              text NOT NULL UNIQUE,
    password_hash      text NOT NULL,           -- argon2id PHC string
    disabled           boolean NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL DEFAULT now(),
    last_login_at      timestamptz
);

CREATE TABLE sessions (
    token_hash         bytea PRIMARY KEY,       -- SHA-256 of the cookie value; the value is never stored
    kind               text NOT NULL CHECK (kind IN ('merchant', 'admin')),
    tenant_id          uuid REFERENCES tenants (id) ON DELETE CASCADE,
    user_id            uuid REFERENCES users (id) ON DELETE CASCADE,
    admin_user_id      uuid REFERENCES admin_users (id) ON DELETE CASCADE,
    csrf_token_hash    bytea NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    last_seen_at       timestamptz NOT NULL DEFAULT now(),
    expires_at         timestamptz NOT NULL,
    CHECK ((kind = 'merchant' AND tenant_id IS NOT NULL) OR (kind = 'admin' AND admin_user_id IS NOT NULL))
);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

CREATE TABLE oauth_states (
    state_hash         bytea PRIMARY KEY,
    created_at         timestamptz NOT NULL DEFAULT now(),
    expires_at         timestamptz NOT NULL,
    used_at            timestamptz
);

CREATE TABLE meta_tokens (
    tenant_id          uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    ig_user_id         text NOT NULL,
    access_token_enc   bytea NOT NULL,          -- AES-GCM ciphertext (nonce || ciphertext)
    key_id             text NOT NULL,
    scopes             text[] NOT NULL DEFAULT '{}',
    obtained_at        timestamptz NOT NULL DEFAULT now(),
    expires_at         timestamptz NOT NULL,
    refreshed_at       timestamptz,
    last_refresh_error text,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- ---------------------------------------------------------------- catalog
CREATE TABLE categories (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name               text NOT NULL CHECK (length(btrim(name)) > 0),
    description        text NOT NULL DEFAULT '',
    sort_order         integer NOT NULL DEFAULT 0,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX categories_tenant_name_key ON categories (tenant_id, lower(name));

CREATE TABLE catalog_items (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    sku                text NOT NULL CHECK (length(btrim(sku)) > 0),
    name               text NOT NULL CHECK (length(btrim(name)) > 0),
    description        text NOT NULL DEFAULT '',
    category_id        uuid REFERENCES categories (id) ON DELETE SET NULL,
    price_jod          numeric(12,3) NOT NULL CHECK (price_jod >= 0),
    stock              integer NOT NULL DEFAULT 0 CHECK (stock >= 0),
    image_url          text,
    attributes         jsonb NOT NULL DEFAULT '{}'::jsonb,
    is_active          boolean NOT NULL DEFAULT true,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, sku)
);
CREATE INDEX catalog_items_category_idx ON catalog_items (tenant_id, category_id);

-- ---------------------------------------------------------------- conversations
CREATE TABLE conversations (
    id                        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id                 uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind                      text NOT NULL DEFAULT 'instagram' CHECK (kind IN ('instagram', 'playground')),
    customer_ig_id            text NOT NULL,    -- IGSID of the customer (or a playground id)
    customer_username         text,
    customer_name             text,
    customer_phone            text,
    customer_city             text,
    customer_address          text,
    mode                      text NOT NULL DEFAULT 'ai' CHECK (mode IN ('ai', 'human')),
    mode_changed_at           timestamptz,
    mode_reason               text,
    last_customer_message_at  timestamptz,
    last_message_at           timestamptz,
    unread_count              integer NOT NULL DEFAULT 0,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, kind, customer_ig_id)
);
CREATE INDEX conversations_recent_idx ON conversations (tenant_id, last_message_at DESC);

CREATE TABLE agent_turns (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    conversation_id    uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    status             text NOT NULL DEFAULT 'running'
                       CHECK (status IN ('running', 'replied', 'skipped', 'failed', 'handed_off')),
    skip_reason        text,
    reply_text         text,
    tool_calls         jsonb NOT NULL DEFAULT '[]'::jsonb,
    error              text,
    started_at         timestamptz NOT NULL DEFAULT now(),
    finished_at        timestamptz
);
CREATE INDEX agent_turns_conversation_idx ON agent_turns (tenant_id, conversation_id, started_at DESC);

CREATE TABLE messages (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    conversation_id    uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    direction          text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    author             text NOT NULL CHECK (author IN ('customer', 'ai', 'merchant', 'merchant_app', 'system')),
    mid                text,                    -- Instagram message id; the dedupe key
    text               text,
    attachments        jsonb NOT NULL DEFAULT '[]'::jsonb,   -- Meta's URLs, never copies
    reply_to           jsonb,
    sent_at            timestamptz NOT NULL,    -- Instagram's timestamp (or ours for sends)
    answered_by_turn   uuid REFERENCES agent_turns (id) ON DELETE SET NULL,
    edited_at          timestamptz,
    deleted_at         timestamptz,
    text_purged_at     timestamptz,             -- GDPR purge after 30 days
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX messages_tenant_mid_key ON messages (tenant_id, mid) WHERE mid IS NOT NULL;
CREATE INDEX messages_conversation_idx ON messages (tenant_id, conversation_id, sent_at);
CREATE INDEX messages_pending_idx ON messages (tenant_id, conversation_id)
    WHERE direction = 'inbound' AND answered_by_turn IS NULL;

-- Webhook events other than messages (reads, reactions, postbacks, edits...), deduplicated.
CREATE TABLE inbound_events (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    conversation_id    uuid REFERENCES conversations (id) ON DELETE CASCADE,
    kind               text NOT NULL,
    dedupe_key         text NOT NULL,
    payload            jsonb NOT NULL,
    received_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, dedupe_key)
);

CREATE TABLE outbound_messages (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    conversation_id    uuid REFERENCES conversations (id) ON DELETE CASCADE,
    idempotency_key    text NOT NULL,
    kind               text NOT NULL CHECK (kind IN ('text', 'sender_action', 'quick_replies', 'cards')),
    payload            jsonb NOT NULL,
    status             text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    mid                text,
    attempts           integer NOT NULL DEFAULT 0,
    error_class        text,
    last_error         text,
    next_attempt_at    timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    sent_at            timestamptz,
    UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX outbound_messages_mid_idx ON outbound_messages (tenant_id, mid) WHERE mid IS NOT NULL;
CREATE INDEX outbound_messages_retry_idx ON outbound_messages (next_attempt_at) WHERE status = 'pending';

-- ---------------------------------------------------------------- orders and returns
CREATE TABLE orders (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    order_number       bigint NOT NULL,         -- per tenant, shown to customers
    conversation_id    uuid REFERENCES conversations (id) ON DELETE SET NULL,
    customer_ig_id     text,
    customer_name      text,
    customer_phone     text,                    -- +9627XXXXXXXX
    city               text,
    address            text,
    notes              text NOT NULL DEFAULT '',
    status             text NOT NULL DEFAULT 'pending'
                       CHECK (status IN ('pending', 'confirmed', 'shipped', 'delivered', 'cancelled', 'returned')),
    source             text NOT NULL DEFAULT 'instagram' CHECK (source IN ('instagram', 'playground', 'dashboard')),
    subtotal_jod       numeric(12,3) NOT NULL CHECK (subtotal_jod >= 0),
    delivery_fee_jod   numeric(12,3) NOT NULL DEFAULT 0 CHECK (delivery_fee_jod >= 0),
    total_jod          numeric(12,3) NOT NULL CHECK (total_jod >= 0),
    idempotency_key    text,
    personal_data_redacted_at timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, order_number)
);
CREATE UNIQUE INDEX orders_idempotency_key ON orders (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX orders_recent_idx ON orders (tenant_id, created_at DESC);
CREATE INDEX orders_customer_idx ON orders (tenant_id, customer_ig_id);

CREATE TABLE order_items (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    order_id           uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    catalog_item_id    uuid REFERENCES catalog_items (id) ON DELETE SET NULL,
    sku                text NOT NULL,
    name               text NOT NULL,
    unit_price_jod     numeric(12,3) NOT NULL CHECK (unit_price_jod >= 0),
    quantity           integer NOT NULL CHECK (quantity >= 1),
    line_total_jod     numeric(12,3) NOT NULL CHECK (line_total_jod >= 0)
);
CREATE INDEX order_items_order_idx ON order_items (tenant_id, order_id);

CREATE TABLE order_status_history (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    order_id           uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    from_status        text,
    to_status          text NOT NULL,
    changed_by         text NOT NULL,           -- 'ai', 'merchant', 'customer', 'system'
    changed_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE return_requests (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    order_id           uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    conversation_id    uuid REFERENCES conversations (id) ON DELETE SET NULL,
    customer_ig_id     text,
    reason             text NOT NULL DEFAULT '',
    status             text NOT NULL DEFAULT 'requested'
                       CHECK (status IN ('requested', 'approved', 'rejected', 'received', 'refunded')),
    merchant_note      text NOT NULL DEFAULT '',
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX return_requests_recent_idx ON return_requests (tenant_id, created_at DESC);

-- ---------------------------------------------------------------- knowledge base
CREATE TABLE kb_documents (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    title              text NOT NULL,
    source_kind        text NOT NULL CHECK (source_kind IN ('upload', 'url')),
    source_url         text,
    blob_path          text,
    content_type       text,
    size_bytes         bigint,
    sha256             text,
    status             text NOT NULL DEFAULT 'queued'
                       CHECK (status IN ('queued', 'processing', 'indexed', 'failed')),
    failure_reason     text,
    chunk_count        integer NOT NULL DEFAULT 0,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE kb_chunks (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    document_id        uuid NOT NULL REFERENCES kb_documents (id) ON DELETE CASCADE,
    ordinal            integer NOT NULL,
    heading            text NOT NULL DEFAULT '',
    content            text NOT NULL,
    embedding          real[],
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (document_id, ordinal)
);
CREATE INDEX kb_chunks_tenant_idx ON kb_chunks (tenant_id);

-- ---------------------------------------------------------------- merchant configuration
CREATE TABLE profiles (
    tenant_id          uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    yaml               text NOT NULL,
    data               jsonb NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ai_settings (
    tenant_id          uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    instructions       text NOT NULL DEFAULT '',
    llm_api_key_enc    bytea,
    llm_key_id         text,
    llm_base_url       text,
    llm_model          text,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE business_rules (
    tenant_id          uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    rules              jsonb NOT NULL DEFAULT '{}'::jsonb,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE onboarding_progress (
    tenant_id          uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    steps              jsonb NOT NULL DEFAULT '{}'::jsonb,
    completed_at       timestamptz,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- ---------------------------------------------------------------- delivery hooks
CREATE TABLE delivery_hooks (
    tenant_id          uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    url                text NOT NULL,
    secret_enc         bytea NOT NULL,
    key_id             text NOT NULL,
    enabled            boolean NOT NULL DEFAULT true,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE hook_deliveries (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    order_id           uuid REFERENCES orders (id) ON DELETE SET NULL,
    event              text NOT NULL CHECK (event IN ('order.created', 'order.status_changed')),
    idempotency_key    text NOT NULL,
    payload            jsonb NOT NULL,
    status             text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'given_up')),
    attempts           integer NOT NULL DEFAULT 0,
    next_attempt_at    timestamptz NOT NULL DEFAULT now(),
    last_status_code   integer,
    last_error         text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    delivered_at       timestamptz,
    UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX hook_deliveries_due_idx ON hook_deliveries (next_attempt_at) WHERE status = 'pending';

-- ---------------------------------------------------------------- usage, alerts, audit
CREATE TABLE usage_events (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    conversation_id    uuid REFERENCES conversations (id) ON DELETE SET NULL,
    turn_id            uuid REFERENCES agent_turns (id) ON DELETE SET NULL,
    kind               text NOT NULL CHECK (kind IN ('chat', 'embedding')),
    provider           text NOT NULL,
    model              text NOT NULL,
    prompt_tokens      integer NOT NULL DEFAULT 0,
    cached_tokens      integer NOT NULL DEFAULT 0,
    completion_tokens  integer NOT NULL DEFAULT 0,
    cost_usd           numeric(14,6) NOT NULL DEFAULT 0,
    billed_to          text NOT NULL DEFAULT 'platform' CHECK (billed_to IN ('platform', 'tenant_key')),
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX usage_events_day_idx ON usage_events (tenant_id, created_at);

CREATE TABLE usage_daily (
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day                date NOT NULL,           -- Asia/Amman calendar day
    messages_in        integer NOT NULL DEFAULT 0,
    ai_replies         integer NOT NULL DEFAULT 0,
    orders             integer NOT NULL DEFAULT 0,
    prompt_tokens      bigint NOT NULL DEFAULT 0,
    cached_tokens      bigint NOT NULL DEFAULT 0,
    completion_tokens  bigint NOT NULL DEFAULT 0,
    cost_usd           numeric(14,6) NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day)
);

CREATE TABLE alerts (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          uuid REFERENCES tenants (id) ON DELETE CASCADE,   -- NULL: platform-wide
    kind               text NOT NULL,
    severity           text NOT NULL DEFAULT 'warning' CHECK (severity IN ('info', 'warning', 'critical')),
    message            text NOT NULL,
    dedupe_key         text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    acknowledged_at    timestamptz
);
CREATE UNIQUE INDEX alerts_open_dedupe_key ON alerts (coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid), dedupe_key)
    WHERE dedupe_key IS NOT NULL AND acknowledged_at IS NULL;

CREATE TABLE audit_log (
    id                 bigserial PRIMARY KEY,
    tenant_id          uuid REFERENCES tenants (id) ON DELETE CASCADE,   -- NULL: platform action
    actor              text NOT NULL,
    action             text NOT NULL,
    target             text,
    details            jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, created_at DESC);

-- ---------------------------------------------------------------- platform tables (no tenant)
-- Cached copy of the last verified whitelist.sig.
CREATE TABLE licence_cache (
    id                 boolean PRIMARY KEY DEFAULT true CHECK (id),
    document           bytea NOT NULL,
    signature          bytea NOT NULL,
    entries            jsonb NOT NULL,
    fetched_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE data_deletion_requests (
    confirmation_code  text PRIMARY KEY,
    ig_user_id         text NOT NULL,
    kind               text NOT NULL CHECK (kind IN ('deauthorize', 'data_deletion')),
    status             text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'completed', 'failed')),
    detail             text,
    requested_at       timestamptz NOT NULL DEFAULT now(),
    completed_at       timestamptz
);

-- The local queue backend (Azure uses Service Bus).
CREATE TABLE queue_messages (
    id                 bigserial PRIMARY KEY,
    queue              text NOT NULL,
    message_id         text NOT NULL,
    body               jsonb NOT NULL,
    enqueued_at        timestamptz NOT NULL DEFAULT now(),
    visible_at         timestamptz NOT NULL DEFAULT now(),
    delivery_count     integer NOT NULL DEFAULT 0,
    lease_token        uuid,
    leased_until       timestamptz,
    last_error         text,
    dead_lettered_at   timestamptz,
    dead_letter_reason text,
    UNIQUE (queue, message_id)
);
CREATE INDEX queue_messages_ready_idx ON queue_messages (queue, id) WHERE dead_lettered_at IS NULL;

-- ---------------------------------------------------------------- row-level security
DO $$
DECLARE
    t text;
BEGIN
    -- Every tenant-owned table: isolation for the application, full view for the platform.
    FOREACH t IN ARRAY ARRAY[
        'users', 'sessions', 'meta_tokens', 'categories', 'catalog_items', 'conversations', 'agent_turns',
        'messages', 'inbound_events', 'outbound_messages', 'orders', 'order_items',
        'order_status_history', 'return_requests', 'kb_documents', 'kb_chunks', 'profiles',
        'ai_settings', 'business_rules', 'onboarding_progress', 'delivery_hooks',
        'hook_deliveries', 'usage_events', 'usage_daily', 'alerts', 'audit_log'
    ] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I TO igshop_app_rw '
            'USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant())', t);
        EXECUTE format('CREATE POLICY platform_all ON %I TO igshop_platform USING (true) WITH CHECK (true)', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO igshop_app_rw', t);
    END LOOP;
END
$$;

-- The tenant row itself: a tenant sees (and may update) only itself; creation and lookup by
-- Instagram account go through the platform role.
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants TO igshop_app_rw
    USING (id = app_current_tenant()) WITH CHECK (id = app_current_tenant());
CREATE POLICY platform_all ON tenants TO igshop_platform USING (true) WITH CHECK (true);
GRANT SELECT, UPDATE ON tenants TO igshop_app_rw;

-- Platform tables the application reaches directly: not tenant data.
GRANT SELECT, INSERT, UPDATE, DELETE ON oauth_states, data_deletion_requests, queue_messages TO igshop_app_rw;
GRANT SELECT ON licence_cache TO igshop_app_rw;
GRANT USAGE ON SEQUENCE queue_messages_id_seq, audit_log_id_seq TO igshop_app_rw;
-- admin_users: platform role only.

-- ---------------------------------------------------------------- the two cross-tenant lookups
-- The application must find a tenant before it can set one: a webhook names an Instagram
-- account, a request carries a session cookie. These definer functions answer exactly that
-- question and nothing more; everything after runs under the tenant's row-level security.
CREATE FUNCTION tenant_for_instagram_account(p_ig_user_id text) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT id FROM tenants WHERE ig_user_id = p_ig_user_id AND status <> 'disabled' $$;

CREATE FUNCTION merchant_session(p_token_hash bytea)
    RETURNS TABLE (tenant_id uuid, user_id uuid, csrf_token_hash bytea, expires_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT s.tenant_id, s.user_id, s.csrf_token_hash, s.expires_at FROM sessions s
          WHERE s.token_hash = p_token_hash AND s.kind = 'merchant' AND s.expires_at > now() $$;

REVOKE ALL ON FUNCTION tenant_for_instagram_account(text), merchant_session(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_for_instagram_account(text), merchant_session(bytea) TO igshop_app_rw;
