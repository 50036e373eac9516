-- 001_init.sql: customers, agents, their tokens, and the throttling log.
--
-- Migrations run in one transaction each time `chatctl migrate` runs; do not
-- put BEGIN or COMMIT in them. Times are integers: milliseconds since
-- 1970-01-01 UTC. Add your own migrations as new numbered files; never edit
-- one that has been applied (it is recorded in schema_migrations and will
-- not run again).

-- Visitors who opened the chat widget. Created by POST /api/v1/customers.
CREATE TABLE customers (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,              -- 1..100 characters
    channel     TEXT    NOT NULL,              -- e.g. WEB: A-Z, 0-9, _
    metadata    TEXT    NOT NULL DEFAULT '{}', -- JSON object, <= 4 KiB
    created_at  INTEGER NOT NULL
);

-- Support agents. Managed with `chatctl agent ...`; log in with
-- POST /api/v1/public/login.
CREATE TABLE agents (
    id             INTEGER PRIMARY KEY,
    username       TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    display_name   TEXT    NOT NULL,
    password_hash  TEXT    NOT NULL,   -- argon2id, libsodium crypto_pwhash_str
    disabled_at    INTEGER,            -- NULL while the agent may log in
    created_at     INTEGER NOT NULL
);

-- Bearer tokens. Only a BLAKE2b-256 hash of each token is kept, so a copy of
-- this database lets no one act as a customer or agent. A token belongs to
-- exactly one customer or one agent.
CREATE TABLE tokens (
    id           INTEGER PRIMARY KEY,
    hash         BLOB    NOT NULL UNIQUE,
    kind         TEXT    NOT NULL CHECK (kind IN ('access', 'refresh')),
    customer_id  INTEGER REFERENCES customers(id) ON DELETE CASCADE,
    agent_id     INTEGER REFERENCES agents(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER,             -- set by logout, agent disable/passwd
    CHECK ((customer_id IS NULL) <> (agent_id IS NULL))
);
CREATE INDEX tokens_customer ON tokens(customer_id);
CREATE INDEX tokens_agent ON tokens(agent_id);
CREATE INDEX tokens_expires ON tokens(expires_at);

-- Events counted for throttling: failed agent logins (buckets 'login_user',
-- keyed by lower-case username, and 'login_addr', keyed by client address)
-- and customer creations ('customer_addr'). Rows older than the window are
-- deleted as new ones arrive.
CREATE TABLE throttle_events (
    bucket  TEXT    NOT NULL,
    key     TEXT    NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX throttle_events_key ON throttle_events(bucket, key, at);
