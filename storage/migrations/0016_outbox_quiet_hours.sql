-- Announcements and questionnaire invitations respect each member's quiet hours: a row
-- queued at night in the member's time zone waits until this instant (UTC, ISO 8601).
ALTER TABLE outbox ADD COLUMN not_before TEXT;
