-- A campaign's own reminder days before its deadline (JSON list; NULL: 3 and 1 days before).
ALTER TABLE survey_campaigns ADD COLUMN remind_days TEXT;
