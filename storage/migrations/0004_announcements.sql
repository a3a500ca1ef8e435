-- Announcements: drafts written step by step in the chat (or by the CLI), versions per
-- language, the durable outbox (one row per recipient and round, written in one transaction
-- at confirmation), and the replies recipients send back.

-- A member whose chat answered 403 (they blocked the bot): nothing more is sent to them
-- until they write to the bot again.
ALTER TABLE members ADD COLUMN unreachable_at TEXT;

CREATE TABLE announcements (
    id            INTEGER PRIMARY KEY,
    author_id     INTEGER REFERENCES members (id),   -- NULL: written with `palabre announce`
    status        TEXT NOT NULL DEFAULT 'draft'
                  CHECK (status IN ('draft', 'scheduled', 'sending', 'done', 'cancelled')),
    step          TEXT NOT NULL DEFAULT 'text',       -- where a draft stands in the chat flow
    text          TEXT NOT NULL DEFAULT '',           -- the default version, plain text
    media_kind    TEXT CHECK (media_kind IN ('photo', 'document')),
    media_file_id TEXT,
    audience      TEXT NOT NULL DEFAULT '{}',         -- JSON {criterion: [values]}
    ack           INTEGER NOT NULL DEFAULT 0,         -- recipients get a "Received" button
    send_at       TEXT,                               -- NULL: as soon as confirmed
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    confirmed_at  TEXT,
    completed_at  TEXT
);
CREATE INDEX announcements_by_author ON announcements (author_id, created_at);
CREATE INDEX announcements_active ON announcements (status) WHERE status IN ('scheduled', 'sending');
CREATE INDEX announcements_drafts ON announcements (author_id) WHERE status = 'draft';

CREATE TABLE announcement_versions (
    announcement_id INTEGER NOT NULL REFERENCES announcements (id) ON DELETE CASCADE,
    language        TEXT NOT NULL,
    text            TEXT NOT NULL,
    PRIMARY KEY (announcement_id, language)
);

-- state: pending → sending (claimed with a fresh token, committed before the HTTP call)
--        → sent (with Telegram's message id) | pending again (429, 5xx, timeout)
--        | failed (refused by Telegram, or too many attempts) | unreachable (403).
-- A row found in `sending` when the sender starts was in flight during a crash: it becomes
-- `uncertain` and is never re-sent on its own (see README, "Announcements").
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    announcement_id INTEGER NOT NULL REFERENCES announcements (id),
    round           INTEGER NOT NULL DEFAULT 0,       -- 0: the announcement, 1…: reminders
    member_id       INTEGER NOT NULL REFERENCES members (id),
    chat_id         INTEGER NOT NULL,
    language        TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'unreachable',
                                     'uncertain')),
    token           TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    message_id      INTEGER,
    error           TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT,
    acked_at        TEXT,
    UNIQUE (announcement_id, member_id, round)
);
CREATE INDEX outbox_pending ON outbox (id) WHERE state = 'pending';
CREATE INDEX outbox_sending ON outbox (id) WHERE state = 'sending';
CREATE INDEX outbox_by_message ON outbox (chat_id, message_id);
CREATE INDEX outbox_by_member ON outbox (member_id);

CREATE TABLE announcement_replies (
    id              INTEGER PRIMARY KEY,
    announcement_id INTEGER NOT NULL REFERENCES announcements (id),
    member_id       INTEGER NOT NULL REFERENCES members (id),
    text            TEXT NOT NULL,
    chat_id         INTEGER NOT NULL,
    message_id      INTEGER NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX announcement_replies_by_announcement ON announcement_replies (announcement_id);
