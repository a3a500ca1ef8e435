-- Repeats: the iteration of the repeat the current question belongs to (0 outside a repeat).
-- Answers inside a repeat are saved under `name[i]` in survey_answers.
ALTER TABLE survey_responses ADD COLUMN iteration INTEGER NOT NULL DEFAULT 0;
