-- Agent turns right for every message (issue 13).

-- Messages from `standby[]` (another app owns the thread): stored, never answered.
ALTER TABLE messages ADD COLUMN standby boolean NOT NULL DEFAULT false;

-- Orders placed from the merchant's test chat are tests: they take no stock, are numbered in
-- a series of their own (the shop's order numbers are not consumed), are filtered out of the
-- Orders list by default and left out of every total.
ALTER TABLE orders ADD COLUMN is_test boolean GENERATED ALWAYS AS (source = 'playground') STORED;
ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_tenant_id_order_number_key;
CREATE UNIQUE INDEX orders_number_key ON orders (tenant_id, order_number) WHERE NOT is_test;
CREATE UNIQUE INDEX orders_test_number_key ON orders (tenant_id, order_number) WHERE is_test;

-- Alerts and handoff reasons as message keys with parameters, so the web app shows them in
-- the merchant's language; `message` stays the English text (logs, the admin console).
ALTER TABLE alerts ADD COLUMN message_key text;
ALTER TABLE alerts ADD COLUMN params jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE conversations ADD COLUMN mode_reason_key text;
ALTER TABLE conversations ADD COLUMN mode_reason_params jsonb NOT NULL DEFAULT '{}'::jsonb;
