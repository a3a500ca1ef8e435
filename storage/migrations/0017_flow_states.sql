-- rebuilds tables (applied with foreign keys off, checked before the commit)
-- Flow states as closed sets, checked by the database (storage/models.py names them:
-- DraftStep, AnnouncementStep, ResponseStep). Composite values are split in two columns:
-- an announcement's 'version:<lang>' becomes step 'version' with version_language, and a
-- questionnaire's 'paused:<step>' becomes step 'paused' with resume_step. SQLite cannot add a
-- CHECK to a column: each table is rebuilt (create, copy, drop, rename), its indexes again.

CREATE TABLE report_drafts_new (
    id                 INTEGER PRIMARY KEY,
    member_id          INTEGER NOT NULL REFERENCES members (id),
    kind               TEXT NOT NULL CHECK (kind IN ('report', 'field_update')),
    project_id         INTEGER REFERENCES projects (id),
    period_start       TEXT,
    period_end         TEXT,
    step               TEXT NOT NULL CHECK (step IN ('project', 'period', 'value', 'narrative',
                                                     'attachments', 'confirm', 'file')),
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
INSERT INTO report_drafts_new
SELECT id, member_id, kind, project_id, period_start, period_end,
       CASE WHEN step IN ('project', 'period', 'value', 'narrative', 'attachments', 'confirm',
                          'file') THEN step
            WHEN kind = 'field_update' THEN 'file' ELSE 'project' END,
       position, narrative, amends_report_id, media_group_id, status, report_id, created_at,
       updated_at
FROM report_drafts;
DROP TABLE report_drafts;
ALTER TABLE report_drafts_new RENAME TO report_drafts;
CREATE INDEX report_drafts_open ON report_drafts (member_id, kind) WHERE status = 'open';
CREATE INDEX report_drafts_declined ON report_drafts (updated_at) WHERE status = 'declined';

CREATE TABLE announcements_new (
    id               INTEGER PRIMARY KEY,
    author_id        INTEGER REFERENCES members (id),   -- NULL: written with `palabre announce`
    status           TEXT NOT NULL DEFAULT 'draft'
                     CHECK (status IN ('draft', 'scheduled', 'sending', 'done', 'cancelled')),
    -- where a draft stands in the chat flow
    step             TEXT NOT NULL DEFAULT 'text'
                     CHECK (step IN ('text', 'retext', 'audience', 'hub', 'version', 'when',
                                     'done')),
    text             TEXT NOT NULL DEFAULT '',           -- the default version, plain text
    media_kind       TEXT CHECK (media_kind IN ('photo', 'document')),
    media_file_id    TEXT,
    audience         TEXT NOT NULL DEFAULT '{}',         -- JSON {criterion: [values]}
    ack              INTEGER NOT NULL DEFAULT 0,         -- recipients get a "Received" button
    send_at          TEXT,                               -- NULL: as soon as confirmed
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    confirmed_at     TEXT,
    completed_at     TEXT,
    campaign_id      INTEGER,
    -- the language of the version being typed (step 'version')
    version_language TEXT CHECK ((step = 'version') = (version_language IS NOT NULL))
);
INSERT INTO announcements_new
SELECT id, author_id, status,
       CASE WHEN step IN ('text', 'retext', 'audience', 'hub', 'when', 'done') THEN step
            WHEN step LIKE 'version:_%' THEN 'version'
            WHEN status = 'draft' THEN 'hub' ELSE 'done' END,
       text, media_kind, media_file_id, audience, ack, send_at, created_at, updated_at,
       confirmed_at, completed_at, campaign_id,
       CASE WHEN step LIKE 'version:_%' THEN substr(step, 9) END
FROM announcements;
DROP TABLE announcements;
ALTER TABLE announcements_new RENAME TO announcements;
CREATE INDEX announcements_by_author ON announcements (author_id, created_at);
CREATE INDEX announcements_active ON announcements (status) WHERE status IN ('scheduled', 'sending');
CREATE INDEX announcements_drafts ON announcements (author_id) WHERE status = 'draft';

-- step: 'question' (position and iteration name it), 'review', 'paused' (/cancel: resume_step
-- says where it resumes), 'closed' (refused after the deadline), 'done' (submitted).
CREATE TABLE survey_responses_new (
    id            INTEGER PRIMARY KEY,
    campaign_id   INTEGER NOT NULL REFERENCES survey_campaigns (id),
    member_id     INTEGER NOT NULL REFERENCES members (id),
    side          TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'submitted')),
    step          TEXT NOT NULL DEFAULT 'question'
                  CHECK (step IN ('question', 'review', 'paused', 'closed', 'done')),
    position      INTEGER NOT NULL DEFAULT 0,
    page          INTEGER NOT NULL DEFAULT 0,
    turn          INTEGER NOT NULL DEFAULT 0,
    editing       INTEGER NOT NULL DEFAULT 0,     -- answering from the review: go back to it
    started_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    submitted_at  TEXT,
    iteration     INTEGER NOT NULL DEFAULT 0,
    resume_step   TEXT CHECK (resume_step IN ('question', 'review')
                              AND (step = 'paused') = (resume_step IS NOT NULL)),
    UNIQUE (campaign_id, member_id)
);
INSERT INTO survey_responses_new
SELECT id, campaign_id, member_id, side, status,
       CASE WHEN step IN ('question', 'review', 'closed', 'done') THEN step
            WHEN step IN ('paused:question', 'paused:review') THEN 'paused'
            WHEN status = 'submitted' THEN 'done' ELSE 'question' END,
       position, page, turn, editing, started_at, updated_at, submitted_at, iteration,
       CASE WHEN step IN ('paused:question', 'paused:review') THEN substr(step, 8) END
FROM survey_responses;
DROP TABLE survey_responses;
ALTER TABLE survey_responses_new RENAME TO survey_responses;
CREATE INDEX survey_responses_open ON survey_responses (member_id) WHERE status = 'open';
