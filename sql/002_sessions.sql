-- 002_sessions.sql: conversations, the message log, what each user is
-- still to be told, and the open WebSocket connections.

-- A conversation between one customer and, once assigned, one agent.
-- queued: no agent yet; active: assigned; closed: over, no more messages.
CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    agent_id     INTEGER REFERENCES agents(id),
    status       TEXT    NOT NULL CHECK (status IN ('queued', 'active', 'closed')),
    channel      TEXT    NOT NULL,
    subject      TEXT,
    created_at   INTEGER NOT NULL,
    closed_at    INTEGER
);
CREATE INDEX sessions_customer ON sessions(customer_id, status);
CREATE INDEX sessions_agent ON sessions(agent_id, status);
CREATE INDEX sessions_status ON sessions(status);
-- At most one open session per customer, so a double click never makes two.
CREATE UNIQUE INDEX sessions_one_open ON sessions(customer_id)
    WHERE status <> 'closed';

-- The message log. AUTOINCREMENT: an id is never reused, so ids grow with
-- time across the whole system, even after deletions.
CREATE TABLE messages (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id     INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    sender_type    TEXT    NOT NULL CHECK (sender_type IN ('customer', 'agent', 'system')),
    sender_id      INTEGER,          -- NULL for system messages
    text           TEXT    NOT NULL, -- 1..4000 characters
    client_msg_id  TEXT,             -- the sender's id for it, <= 64 characters
    origin_conn    INTEGER,          -- the connection it came from: it gets an ack, not an echo
    created_at     INTEGER NOT NULL
);
CREATE INDEX messages_session ON messages(session_id, id);
-- A repeated clientMsgId from the same sender in the same session stores nothing.
CREATE UNIQUE INDEX messages_client_msg_id
    ON messages(session_id, sender_type, sender_id, client_msg_id)
    WHERE client_msg_id IS NOT NULL;

-- What each user is to be told, in order: a message (message_id) or a
-- change of a session (message_id NULL). The id is the delivery cursor of
-- every connection of that user. Session rows are live only and are
-- deleted after a while.
CREATE TABLE deliveries (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_type     TEXT    NOT NULL CHECK (user_type IN ('customer', 'agent')),
    user_id       INTEGER NOT NULL,
    message_id    INTEGER REFERENCES messages(id) ON DELETE CASCADE,
    session_id    INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL
);
CREATE INDEX deliveries_user ON deliveries(user_type, user_id, id);
CREATE INDEX deliveries_session_events ON deliveries(created_at)
    WHERE message_id IS NULL;

-- How far each user's deliveries surely reached a connection of theirs:
-- the messages after `upto`, but for their own, are their offline
-- messages, pushed on their next connection. One small row per user, so
-- marking what was sent writes one page, not one per message.
CREATE TABLE delivered (
    user_type  TEXT    NOT NULL,
    user_id    INTEGER NOT NULL,
    upto       INTEGER NOT NULL,
    PRIMARY KEY (user_type, user_id)
) WITHOUT ROWID;

-- Open WebSocket connections: who is online, and whom to wake. Each
-- connection's handler listens on an abstract Unix socket named after this
-- database's instance and a random name of its own (socket); a row whose
-- socket is gone (its handler died, even by kill -9) is deleted by
-- whoever finds that out.
CREATE TABLE connections (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_type   TEXT    NOT NULL CHECK (user_type IN ('customer', 'agent')),
    user_id     INTEGER NOT NULL,
    socket      TEXT    NOT NULL UNIQUE,
    pid         INTEGER NOT NULL,
    address     TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
CREATE INDEX connections_user ON connections(user_type, user_id);

-- Facts about this database. instance: a random name that keeps the
-- wake-up sockets of two databases on one machine apart.
CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
INSERT INTO settings (key, value) VALUES ('instance', lower(hex(randomblob(8))));
