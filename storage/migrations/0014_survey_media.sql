-- Media labels of a questionnaire version (media::image, media::audio, media::video): the
-- files found beside the XLSForm at import, kept with the version they belong to.
CREATE TABLE survey_media (
    form_pk       INTEGER NOT NULL REFERENCES survey_forms (id),
    name          TEXT NOT NULL,                 -- the file name the form gives
    mime_type     TEXT NOT NULL,
    content       TEXT NOT NULL,                 -- base64 (the JSON Lines dump carries it)
    PRIMARY KEY (form_pk, name)
);
