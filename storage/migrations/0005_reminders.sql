-- Reminders: each planned reminder is a row (the store, not the scheduler, is the truth).
-- The unique key (member, subject, kind, step, due instant) makes a reminder impossible to plan
-- or send twice, whatever restarts or overlapping ticks happen.

ALTER TABLE projects ADD COLUMN reminders TEXT;  -- the project's policy as JSON; NULL: defaults

CREATE TABLE reminders (
    id         INTEGER PRIMARY KEY,
    member_id  INTEGER NOT NULL REFERENCES members (id),
    project_id INTEGER REFERENCES projects (id),  -- NULL for a weekly digest
    subject    TEXT NOT NULL,  -- 'report:<period end>' or 'digest:<monday>'
    kind       TEXT NOT NULL CHECK (kind IN ('before', 'overdue', 'escalate_partner',
                                             'escalate_north', 'snooze', 'digest')),
    step       INTEGER NOT NULL DEFAULT 0,
    due_at     TEXT NOT NULL,  -- when it was planned for (UTC)
    send_at    TEXT NOT NULL,  -- when it may go: moved into allowed hours, or by a snooze
    state      TEXT NOT NULL DEFAULT 'planned'
               CHECK (state IN ('planned', 'sending', 'sent', 'done', 'skipped', 'cancelled',
                                'unreachable', 'uncertain', 'failed')),
    token      TEXT,
    message_id INTEGER,
    note       TEXT,  -- why it was skipped, or the error
    settled_at TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (member_id, subject, kind, step, due_at)
);
CREATE INDEX reminders_to_send ON reminders (send_at) WHERE state = 'planned';
CREATE INDEX reminders_by_subject ON reminders (member_id, subject);
CREATE INDEX reminders_by_project ON reminders (project_id, subject);
