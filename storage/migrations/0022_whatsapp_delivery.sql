-- WhatsApp's message id (wamid) of what was sent to a WhatsApp person, so that Meta's status
-- callbacks (sent, delivered, read, failed: keyed by wamid) settle the outbox row or the
-- reminder that sent it; when the recipient's phone received and opened an announcement.
ALTER TABLE outbox ADD COLUMN wamid TEXT;
ALTER TABLE outbox ADD COLUMN delivered_at TEXT;
ALTER TABLE outbox ADD COLUMN read_at TEXT;
ALTER TABLE reminders ADD COLUMN wamid TEXT;
CREATE INDEX outbox_by_wamid ON outbox (wamid) WHERE wamid IS NOT NULL;
CREATE INDEX reminders_by_wamid ON reminders (wamid) WHERE wamid IS NOT NULL;
-- A person's last message opens WhatsApp's 24-hour window: read for every message sent.
CREATE INDEX wa_inbox_last_message ON wa_inbox (wa_id, sent_at) WHERE kind = 'message';
