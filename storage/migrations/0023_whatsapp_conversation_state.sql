-- WhatsApp conversation state that must survive a restart, one row per person (their wa_id),
-- both removed by /forget.

-- The numbered choices of the last reply offering more choices than a list holds: the number
-- typed stands for the choice (`choices`: JSON object number -> the choice's reference), and
-- the wamids of the messages that offered them (JSON list): a number quoting another message
-- (an older offer, or a forged context) is refused like a stale button. Replaced by the next
-- reply with choices.
CREATE TABLE wa_numbered_choices (
    wa_id      TEXT PRIMARY KEY,
    wamids     TEXT NOT NULL,
    choices    TEXT NOT NULL,
    offered_at TEXT NOT NULL
);

-- Whether a person has seen the bot's latest question (Telegram's `pending_replies`): the
-- message whose writes last moved their flow, since when, and when its replies were all sent
-- (NULL: not yet, or never: the bot was killed after the commit, or a send failed or its
-- outcome is unknown). While NULL, free text is not taken as the answer to the current step.
CREATE TABLE wa_pending_replies (
    wa_id        TEXT PRIMARY KEY,
    event_id     TEXT NOT NULL,
    since        TEXT NOT NULL,
    delivered_at TEXT
);
