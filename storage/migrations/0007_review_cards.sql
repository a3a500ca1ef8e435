-- The review cards sent to coordinators for each report: when one of them accepts or returns
-- the report, the others' cards are updated (no buttons left that would act on a decided report).
CREATE TABLE review_cards (
    report_id  INTEGER NOT NULL REFERENCES reports (id),
    member_id  INTEGER NOT NULL REFERENCES members (id),
    chat_id    INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    sent_at    TEXT NOT NULL,
    PRIMARY KEY (report_id, chat_id, message_id)
);
