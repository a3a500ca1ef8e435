-- Network, members, invitations, onboarding and the durable update inbox.
-- Times are ISO 8601 strings in UTC; multilingual names are JSON objects {"fr": …, "en": …}.

CREATE TABLE organisations (
    id          INTEGER PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('collectivity', 'partner')),
    name        TEXT NOT NULL,
    country     TEXT NOT NULL,
    timezone    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE projects (
    id          INTEGER PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    country     TEXT NOT NULL,
    timezone    TEXT NOT NULL,
    cadence     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE project_organisations (
    project_id      INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    organisation_id INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    PRIMARY KEY (project_id, organisation_id)
);
CREATE INDEX project_organisations_by_org ON project_organisations (organisation_id);

CREATE TABLE indicators (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    unit        TEXT NOT NULL DEFAULT '',
    type        TEXT NOT NULL CHECK (type IN ('integer', 'decimal', 'percent')),
    target      REAL,
    min_value   REAL,
    max_value   REAL,
    position    INTEGER NOT NULL,
    UNIQUE (project_id, code)
);

CREATE TABLE invitations (
    id              INTEGER PRIMARY KEY,
    code_hash       TEXT NOT NULL UNIQUE,
    label           TEXT NOT NULL UNIQUE,
    role            TEXT NOT NULL CHECK (role IN ('partner', 'coordinator', 'observer', 'admin')),
    organisation_id INTEGER REFERENCES organisations (id),
    max_uses        INTEGER NOT NULL CHECK (max_uses >= 1),
    uses            INTEGER NOT NULL DEFAULT 0,
    expires_at      TEXT NOT NULL,
    revoked_at      TEXT,
    created_at      TEXT NOT NULL
);

CREATE TABLE invitation_projects (
    invitation_id INTEGER NOT NULL REFERENCES invitations (id) ON DELETE CASCADE,
    project_id    INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    PRIMARY KEY (invitation_id, project_id)
);
CREATE INDEX invitation_projects_by_project ON invitation_projects (project_id);

CREATE TABLE members (
    id               INTEGER PRIMARY KEY,
    telegram_user_id INTEGER UNIQUE,
    display_name     TEXT,
    username         TEXT,
    role             TEXT NOT NULL CHECK (role IN ('partner', 'coordinator', 'observer', 'admin')),
    organisation_id  INTEGER REFERENCES organisations (id),
    language         TEXT NOT NULL,
    timezone         TEXT NOT NULL,
    consent_at       TEXT,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'active', 'stopped', 'forgotten')),
    invitation_id    INTEGER REFERENCES invitations (id),
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX members_by_org ON members (organisation_id);
CREATE INDEX members_by_invitation ON members (invitation_id);

CREATE TABLE member_projects (
    member_id  INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    PRIMARY KEY (member_id, project_id)
);
CREATE INDEX member_projects_by_project ON member_projects (project_id);

-- A person between opening an invitation and accepting the consent text.
CREATE TABLE onboarding (
    telegram_user_id INTEGER PRIMARY KEY,
    invitation_id    INTEGER REFERENCES invitations (id) ON DELETE CASCADE,
    step             TEXT NOT NULL CHECK (step IN ('language', 'consent')),
    language         TEXT NOT NULL,
    display_name     TEXT,
    username         TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX onboarding_by_invitation ON onboarding (invitation_id);

CREATE TABLE code_attempts (
    id               INTEGER PRIMARY KEY,
    telegram_user_id INTEGER NOT NULL,
    at               TEXT NOT NULL
);
CREATE INDEX code_attempts_by_user ON code_attempts (telegram_user_id, at);
CREATE INDEX code_attempts_by_time ON code_attempts (at);

-- Every update is recorded here before Telegram can be told it was received.
CREATE TABLE inbox (
    update_id        INTEGER PRIMARY KEY,
    telegram_user_id INTEGER,
    payload          TEXT,
    received_at      TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'handled', 'failed')),
    handled_at       TEXT,
    error            TEXT
);
CREATE INDEX inbox_pending ON inbox (update_id) WHERE status = 'pending';
CREATE INDEX inbox_closed ON inbox (handled_at) WHERE status != 'pending';
CREATE INDEX inbox_by_user ON inbox (telegram_user_id);

CREATE TABLE kv (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
