-- 004_reach.sql: nobody misses a chat. What the visitor told us (email,
-- consent, the page they are on), chats left as messages while nobody
-- answered, the system lines of who joined, and the mail that goes out.

-- A customer's email address (validated, at most 254 bytes), given in the
-- pre-chat form, when leaving a message or asking for a transcript; and
-- when they accepted the operator's privacy text (CHAT_PRIVACY_TEXT).
ALTER TABLE customers ADD COLUMN email TEXT;
ALTER TABLE customers ADD COLUMN consent_at INTEGER;

-- kind 'message': left by a visitor while nobody answered (outside hours,
-- no agent online, or not claimed within CHAT_UNCLAIMED_TIMEOUT). It waits
-- in the queue like any other, for an agent to answer later.
-- context: where the visitor is, as the widget saw it: a JSON object of
-- url, title, referrer, browser, os, language (at most 4 KiB).
-- alerted_at: when the team was mailed that this queued chat waits.
-- followup_upto: the id of the last agent message mailed to a visitor who
-- had left; later ones go in the next mail.
ALTER TABLE sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'chat'
    CHECK (kind IN ('chat', 'message'));
ALTER TABLE sessions ADD COLUMN context TEXT NOT NULL DEFAULT '{}';
ALTER TABLE sessions ADD COLUMN alerted_at INTEGER;
ALTER TABLE sessions ADD COLUMN followup_upto INTEGER NOT NULL DEFAULT 0;

-- A system line's event, for clients to say it in their own language:
-- 'joined' (agent_id joined the chat), 'transferred' (from from_agent_id to
-- agent_id), 'left_message'. text holds the same in English.
ALTER TABLE messages ADD COLUMN event TEXT;
ALTER TABLE messages ADD COLUMN event_agent_id INTEGER;
ALTER TABLE messages ADD COLUMN event_from_agent_id INTEGER;

-- Outgoing mail. Each is composed whole (RFC 5322, CRLF lines) in the same
-- transaction as what caused it, and sent by the one mail sender
-- (chat-mail). sending_at is set before a try and cleared after it: a row
-- found with it set after a crash may have reached the SMTP server already
-- and is tried again with the same Message-ID (at least once, never lost).
-- chat-mail deletes sent mail after 7 days and failed mail after 30: the
-- queue holds what people wrote for that long only. chatctl mail list
-- shows it.
CREATE TABLE mail_queue (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,  -- team_waiting, team_message, transcript, followup, test
    session_id   INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
    recipient    TEXT    NOT NULL,  -- one address
    message      TEXT    NOT NULL,  -- headers and body, as sent
    message_id   TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      INTEGER NOT NULL,  -- not tried before this time
    sending_at   INTEGER,
    sent_at      INTEGER,
    failed_at    INTEGER,           -- given up (a permanent refusal, or too old)
    last_error   TEXT
);
CREATE INDEX mail_queue_due ON mail_queue(next_at)
    WHERE sent_at IS NULL AND failed_at IS NULL;

-- Links back to a conversation, mailed to a visitor who left: the code's
-- BLAKE2b-256 hash, the customer it signs in as, until when (any number of
-- uses until then: a mail scanner that opens a link must not spend it).
CREATE TABLE resume_codes (
    hash         BLOB    PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    session_id   INTEGER REFERENCES sessions(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) WITHOUT ROWID;
