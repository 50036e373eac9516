-- 003_presence.sql: presence that follows reality, receipts, and limits
-- per user rather than per connection.

-- An agent connection's handler refreshes seen_at (a heartbeat) while it
-- is alive and responsive; presence and routing count only connections
-- seen within CHAT_PRESENCE_STALE seconds, so a handler killed, frozen or
-- cut off from its client stops counting even while its row is still
-- here. A customer's connection keeps the time it was opened: nothing
-- routes to customers. token_id: the access token it was opened with, for
-- the cap on open connections per token (CHAT_WS_MAX_PER_TOKEN).
ALTER TABLE connections ADD COLUMN seen_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE connections ADD COLUMN token_id INTEGER;
UPDATE connections SET seen_at = created_at;
CREATE INDEX connections_token ON connections(token_id);

-- When each agent was last seen on a live connection. An agent with active
-- sessions and no live connection for CHAT_REQUEUE_AFTER seconds has those
-- sessions put back in the queue, offered to every agent again.
CREATE TABLE agent_presence (
    agent_id  INTEGER PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
    seen_at   INTEGER NOT NULL
);
CREATE INDEX agent_presence_seen ON agent_presence(seen_at);

-- The message rate limit (CHAT_WS_RATE) of each user, over all of their
-- connections: a token bucket holding `allowance` messages at time `at`.
CREATE TABLE rate_buckets (
    user_type  TEXT    NOT NULL,
    user_id    INTEGER NOT NULL,
    allowance  REAL    NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (user_type, user_id)
) WITHOUT ROWID;
