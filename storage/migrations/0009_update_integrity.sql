-- A person whose last reply may not have reached them: the update that wrote, and since when.
-- Set in the same transaction as that update's writes; cleared once every reply of it was
-- delivered. While a row is here, free text is not taken as the answer to the current step:
-- the bot shows what it saved and asks the current question again.
CREATE TABLE pending_replies (
    telegram_user_id INTEGER PRIMARY KEY,
    update_id        INTEGER NOT NULL,
    since            TEXT NOT NULL
);

-- Updates that cannot be stored or parsed (a lone surrogate, a kind the library cannot read):
-- kept raw, ASCII-escaped, out of the inbox, confirmed to Telegram and never handled.
CREATE TABLE quarantine (
    update_id   INTEGER PRIMARY KEY,
    raw         TEXT NOT NULL,
    reason      TEXT NOT NULL,
    received_at TEXT NOT NULL
);
