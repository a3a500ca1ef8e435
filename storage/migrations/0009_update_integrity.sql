-- Whether a person has seen the bot's latest question: the update that last wrote for them,
-- since when, and when its replies were delivered (NULL: not yet, or never: a crash or a lost
-- answer) with the chat's message id of the last of them. Written in the same transaction as
-- that update's writes. While the replies are not delivered, or for a message the person sent
-- before they were (a lower message id in the chat: a retry typed while the bot restarted),
-- free text is not taken as the answer to the current step: the bot shows what it saved and
-- asks the current question again.
CREATE TABLE pending_replies (
    telegram_user_id     INTEGER PRIMARY KEY,
    update_id            INTEGER NOT NULL,
    since                TEXT NOT NULL,
    delivered_at         TEXT,
    delivered_message_id INTEGER
);

-- Updates that cannot be stored or parsed (a lone surrogate, a kind the library cannot read):
-- kept raw, ASCII-escaped, out of the inbox, confirmed to Telegram and never handled.
CREATE TABLE quarantine (
    update_id   INTEGER PRIMARY KEY,
    raw         TEXT NOT NULL,
    reason      TEXT NOT NULL,
    received_at TEXT NOT NULL
);
