-- The agent turn: which customer messages a turn answers (so a turn that crashed is resumed
-- with the same identity, and its order and reply keys stay the same), and at most one
-- running turn per conversation.
ALTER TABLE agent_turns ADD COLUMN message_ids uuid[] NOT NULL DEFAULT '{}';
ALTER TABLE agent_turns ADD COLUMN model_calls integer NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX agent_turns_one_running ON agent_turns (conversation_id) WHERE status = 'running';
