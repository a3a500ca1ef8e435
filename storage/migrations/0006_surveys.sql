-- Evaluation surveys: imported questionnaire versions, campaigns, who was invited (with their
-- side of the partnership), and the answers, one row per question (long form).

-- One row per distinct content: re-importing a changed file adds a version, never edits one.
CREATE TABLE survey_forms (
    id            INTEGER PRIMARY KEY,
    form_id       TEXT NOT NULL,                 -- the XLSForm's form_id (settings sheet)
    version       INTEGER NOT NULL,              -- 1, 2, … per form_id, in import order
    content_hash  TEXT NOT NULL,                 -- sha256 of the normalised definition
    title         TEXT NOT NULL,                 -- in the form's default language
    definition    TEXT NOT NULL,                 -- JSON, bot.core.surveys.forms.Definition
    source        TEXT NOT NULL,                 -- the imported file's name
    imported_at   TEXT NOT NULL,
    UNIQUE (form_id, version),
    UNIQUE (form_id, content_hash)
);

CREATE TABLE survey_campaigns (
    id            INTEGER PRIMARY KEY,
    form_pk       INTEGER NOT NULL REFERENCES survey_forms (id),
    created_by    INTEGER REFERENCES members (id),   -- NULL: `palabre survey launch`
    audience      TEXT NOT NULL DEFAULT '{}',         -- JSON, as an announcement's
    joint         INTEGER NOT NULL DEFAULT 0,
    opens_at      TEXT NOT NULL,
    closes_at     TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

-- side: 'collectivity' (the Northern local government's people) or 'partner'.
CREATE TABLE survey_invitations (
    campaign_id   INTEGER NOT NULL REFERENCES survey_campaigns (id),
    member_id     INTEGER NOT NULL REFERENCES members (id),
    side          TEXT NOT NULL CHECK (side IN ('collectivity', 'partner')),
    invited_at    TEXT NOT NULL,
    PRIMARY KEY (campaign_id, member_id)
);
CREATE INDEX survey_invitations_by_member ON survey_invitations (member_id);

-- position: index of the current question in the definition (iteration, added by 0013: of
-- its repeat); step: see 0017_flow_states.sql ('question', 'review', 'paused' with
-- resume_step, 'closed', 'done'); buttons carry the step's token (position.iteration, or 'r'
-- for the review), so an older message's button is stale; turn counts the changes.
CREATE TABLE survey_responses (
    id            INTEGER PRIMARY KEY,
    campaign_id   INTEGER NOT NULL REFERENCES survey_campaigns (id),
    member_id     INTEGER NOT NULL REFERENCES members (id),
    side          TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'submitted')),
    step          TEXT NOT NULL DEFAULT 'question',
    position      INTEGER NOT NULL DEFAULT 0,
    page          INTEGER NOT NULL DEFAULT 0,
    turn          INTEGER NOT NULL DEFAULT 0,
    editing       INTEGER NOT NULL DEFAULT 0,     -- answering from the review: go back to it
    started_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    submitted_at  TEXT,
    UNIQUE (campaign_id, member_id)
);
CREATE INDEX survey_responses_open ON survey_responses (member_id) WHERE status = 'open';

-- value: as XLSForm writes it (select_multiple: names separated by spaces; geopoint:
-- "lat lon"; date: ISO); file_id: Telegram's id of a photo or voice note.
CREATE TABLE survey_answers (
    response_id   INTEGER NOT NULL REFERENCES survey_responses (id),
    question      TEXT NOT NULL,
    value         TEXT,
    file_id       TEXT,
    answered_at   TEXT NOT NULL,
    PRIMARY KEY (response_id, question)
);

ALTER TABLE announcements ADD COLUMN campaign_id INTEGER;  -- an invitation to a campaign
