-- The coordinator's /survey screens: the questionnaire being prepared, one row per member
-- (it was untyped JSON in kv under 'survey-launch:<member id>'). /forget deletes it.
CREATE TABLE survey_launch_drafts (
    member_id   INTEGER PRIMARY KEY REFERENCES members (id),
    form_pk     INTEGER NOT NULL REFERENCES survey_forms (id),
    audience    TEXT NOT NULL DEFAULT '{}',     -- JSON {criterion: [values]}, as announcements
    joint       INTEGER NOT NULL DEFAULT 0 CHECK (joint IN (0, 1)),
    days        INTEGER NOT NULL DEFAULT 14 CHECK (days > 0),  -- deadline after the opening
    later       INTEGER NOT NULL DEFAULT 0 CHECK (later IN (0, 1)),  -- opens tomorrow 08:00
    updated_at  TEXT NOT NULL
);

INSERT OR IGNORE INTO survey_launch_drafts (member_id, form_pk, audience, joint, days, later,
                                            updated_at)
SELECT m.id, f.id, COALESCE(json_extract(kv.value, '$.audience'), '{}'),
       CASE WHEN json_extract(kv.value, '$.joint') THEN 1 ELSE 0 END,
       CASE WHEN CAST(json_extract(kv.value, '$.days') AS INTEGER) > 0
            THEN CAST(json_extract(kv.value, '$.days') AS INTEGER) ELSE 14 END,
       CASE WHEN json_extract(kv.value, '$.later') THEN 1 ELSE 0 END,
       strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')
FROM kv
JOIN members m ON m.id = CAST(substr(kv.key, 15) AS INTEGER)
JOIN survey_forms f ON f.id = json_extract(kv.value, '$.form')
WHERE kv.key LIKE 'survey-launch:%' AND json_valid(kv.value);
DELETE FROM kv WHERE key LIKE 'survey-launch:%';
