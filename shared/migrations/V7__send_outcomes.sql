-- Sends whose outcome is unknown are settled by evidence, not sent again blindly.
--
-- A part is 'sending' from just before the Graph call (attempt_started_at, committed first)
-- until its answer is recorded: a part found 'sending' later was cut off by a crash or a
-- timeout after the request left, so Instagram may have delivered it. Such a part is settled
-- by its echo webhook or by a look at the conversation through the Graph API, and sent again
-- only when that evidence says it was not delivered.
ALTER TABLE outbound_messages DROP CONSTRAINT IF EXISTS outbound_messages_status_check;
ALTER TABLE outbound_messages ADD CONSTRAINT outbound_messages_status_check
    CHECK (status IN ('pending', 'sending', 'sent', 'failed'));
ALTER TABLE outbound_messages ADD COLUMN attempt_started_at timestamptz;
-- How the part was confirmed: 'answer' (Graph answered with the mid), 'echo' (the echo
-- webhook), 'conversation' (found in the conversation's latest messages).
ALTER TABLE outbound_messages ADD COLUMN confirmed_by text;

-- One Instagram message id belongs to at most one part. Earlier versions could bind one echo
-- to two parts: keep the mid on the oldest part only.
UPDATE outbound_messages o SET mid = NULL
 WHERE mid IS NOT NULL
   AND EXISTS (SELECT 1 FROM outbound_messages e
                WHERE e.tenant_id = o.tenant_id AND e.mid = o.mid
                  AND (e.created_at, e.id) < (o.created_at, o.id));
-- Parts an echo confirmed but that stayed 'pending' were delivered.
UPDATE outbound_messages SET status = 'sent', next_attempt_at = NULL,
       sent_at = coalesce(sent_at, created_at), confirmed_by = 'echo'
 WHERE status = 'pending' AND mid IS NOT NULL;
DROP INDEX IF EXISTS outbound_messages_mid_idx;
CREATE UNIQUE INDEX outbound_messages_tenant_mid_key ON outbound_messages (tenant_id, mid) WHERE mid IS NOT NULL;
-- Unknown outcomes the sweeper settles.
CREATE INDEX outbound_messages_sending_idx ON outbound_messages (attempt_started_at) WHERE status = 'sending';
