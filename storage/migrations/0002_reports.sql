-- Progress reports: drafts saved answer by answer, reports with versions, indicator values,
-- attachments (recorded at once, downloaded later), review comments, and an append-only audit log.

ALTER TABLE members ADD COLUMN notify_reports INTEGER NOT NULL DEFAULT 1;

CREATE TABLE reports (
    id             INTEGER PRIMARY KEY,
    reference      TEXT NOT NULL UNIQUE,
    kind           TEXT NOT NULL CHECK (kind IN ('report', 'field_update')),
    project_id     INTEGER NOT NULL REFERENCES projects (id),
    member_id      INTEGER NOT NULL REFERENCES members (id),
    period_start   TEXT,
    period_end     TEXT,
    status         TEXT NOT NULL CHECK (status IN ('submitted', 'accepted', 'returned', 'amended')),
    status_by      INTEGER REFERENCES members (id),
    status_at      TEXT NOT NULL,
    status_comment TEXT,
    version        INTEGER NOT NULL DEFAULT 1,
    chat_id        INTEGER,
    message_id     INTEGER,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX reports_by_project ON reports (project_id, created_at);
CREATE INDEX reports_by_member ON reports (member_id, created_at);
CREATE INDEX reports_by_period ON reports (project_id, period_end);

CREATE TABLE report_versions (
    id         INTEGER PRIMARY KEY,
    report_id  INTEGER NOT NULL REFERENCES reports (id),
    version    INTEGER NOT NULL,
    narrative  TEXT,
    created_by INTEGER REFERENCES members (id),
    created_at TEXT NOT NULL,
    UNIQUE (report_id, version)
);

CREATE TABLE indicator_values (
    report_version_id INTEGER NOT NULL REFERENCES report_versions (id),
    indicator_id      INTEGER NOT NULL REFERENCES indicators (id),
    value             REAL NOT NULL,
    PRIMARY KEY (report_version_id, indicator_id)
);
CREATE INDEX indicator_values_by_indicator ON indicator_values (indicator_id);

CREATE TABLE report_drafts (
    id                 INTEGER PRIMARY KEY,
    member_id          INTEGER NOT NULL REFERENCES members (id),
    kind               TEXT NOT NULL CHECK (kind IN ('report', 'field_update')),
    project_id         INTEGER REFERENCES projects (id),
    period_start       TEXT,
    period_end         TEXT,
    step               TEXT NOT NULL,
    position           INTEGER NOT NULL DEFAULT 0,
    narrative          TEXT,
    amends_report_id   INTEGER REFERENCES reports (id),
    media_group_id     TEXT,
    status             TEXT NOT NULL DEFAULT 'open'
                       CHECK (status IN ('open', 'submitted', 'closed', 'declined')),
    report_id          INTEGER REFERENCES reports (id),
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX report_drafts_open ON report_drafts (member_id, kind) WHERE status = 'open';
CREATE INDEX report_drafts_declined ON report_drafts (updated_at) WHERE status = 'declined';

CREATE TABLE draft_values (
    draft_id     INTEGER NOT NULL REFERENCES report_drafts (id) ON DELETE CASCADE,
    indicator_id INTEGER NOT NULL REFERENCES indicators (id),
    value        TEXT,
    PRIMARY KEY (draft_id, indicator_id)
);

CREATE TABLE attachments (
    id                INTEGER PRIMARY KEY,
    member_id         INTEGER REFERENCES members (id),
    draft_id          INTEGER REFERENCES report_drafts (id) ON DELETE CASCADE,
    report_version_id INTEGER REFERENCES report_versions (id),
    purpose           TEXT NOT NULL DEFAULT 'attachment' CHECK (purpose IN ('attachment', 'narrative')),
    kind              TEXT NOT NULL
                      CHECK (kind IN ('photo', 'document', 'video', 'voice', 'audio', 'location', 'text')),
    file_id           TEXT,
    file_unique_id    TEXT,
    mime_type         TEXT,
    size              INTEGER,
    caption           TEXT,
    body              TEXT,
    latitude          REAL,
    longitude         REAL,
    media_group_id    TEXT,
    chat_id           INTEGER,
    message_id        INTEGER,
    sha256            TEXT,
    path              TEXT,
    state             TEXT NOT NULL CHECK (state IN ('none', 'pending', 'stored', 'refused')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   TEXT,
    error             TEXT,
    created_at        TEXT NOT NULL
);
CREATE INDEX attachments_to_fetch ON attachments (next_attempt_at) WHERE state = 'pending';
CREATE INDEX attachments_by_version ON attachments (report_version_id);
CREATE INDEX attachments_by_draft ON attachments (draft_id);
CREATE INDEX attachments_by_sha ON attachments (sha256);

-- A coordinator who pressed "Return with comment" and is writing the comment.
CREATE TABLE review_comments (
    member_id  INTEGER PRIMARY KEY REFERENCES members (id),
    report_id  INTEGER NOT NULL REFERENCES reports (id),
    created_at TEXT NOT NULL
);

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor_id  INTEGER REFERENCES members (id),
    action    TEXT NOT NULL,
    report_id INTEGER REFERENCES reports (id),
    details   TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_by_report ON audit_log (report_id);
CREATE TRIGGER audit_log_is_append_only_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_is_append_only_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
