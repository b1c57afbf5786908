-- Licences, the admin console and the nightly job.

-- Admin sign-in attempts: rate limiting per client and a temporary lock-out per e-mail after
-- repeated failures (shared/src/admin.rs). Platform role only; old rows go with the nightly job.
CREATE TABLE admin_sign_in_attempts (
    id                 bigserial PRIMARY KEY,
    email              text NOT NULL,           -- lower case, as typed (may name no account)
    client             text NOT NULL,           -- the caller's address as the host saw it
    succeeded          boolean NOT NULL,
    attempted_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX admin_sign_in_attempts_email_idx ON admin_sign_in_attempts (email, attempted_at);
CREATE INDEX admin_sign_in_attempts_client_idx ON admin_sign_in_attempts (client, attempted_at);

-- A shop's monthly model budget (USD, platform-billed usage): a warning at 80 %, and with
-- pause_at_limit no AI replies once the month's cost reaches it. The shop may read its own.
CREATE TABLE tenant_budgets (
    tenant_id          uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    monthly_usd        numeric(12,2) NOT NULL CHECK (monthly_usd > 0),
    pause_at_limit     boolean NOT NULL DEFAULT false,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE tenant_budgets ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_budgets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_budgets TO igshop_app_rw
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
CREATE POLICY platform_all ON tenant_budgets TO igshop_platform USING (true) WITH CHECK (true);
GRANT SELECT ON tenant_budgets TO igshop_app_rw;

-- The roll-up also counts handoffs per day.
ALTER TABLE usage_daily ADD COLUMN handoffs integer NOT NULL DEFAULT 0;
ALTER TABLE usage_daily ADD COLUMN rolled_up_at timestamptz NOT NULL DEFAULT now();

-- The GDPR purge walks only the messages whose text is still there.
CREATE INDEX messages_purge_idx ON messages (sent_at) WHERE text_purged_at IS NULL;
-- The month's cost of one shop (budget check on every turn).
CREATE INDEX usage_events_tenant_billed_idx ON usage_events (tenant_id, created_at) WHERE billed_to = 'platform';
