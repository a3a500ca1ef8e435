-- WhatsApp webhook events, recorded before Meta is answered 200 (it retries for days until
-- then, and may send an event twice): keyed by the message's wamid, or "<wamid>:<status>" for
-- the status of a message Palabre sent. Handled in order per person, once.
CREATE TABLE wa_inbox (
    event_id    TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('message', 'status')),
    wa_id       TEXT NOT NULL,
    sent_at     INTEGER NOT NULL,           -- Meta's timestamp (seconds since the epoch)
    payload     TEXT,                       -- the event's JSON (removed by /forget)
    received_at TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'handled', 'failed')),
    handled_at  TEXT,
    error       TEXT
);
CREATE INDEX wa_inbox_pending ON wa_inbox (wa_id, sent_at) WHERE status = 'pending';
CREATE INDEX wa_inbox_closed ON wa_inbox (handled_at) WHERE status != 'pending';
