-- Campaign openings and deadlines in UTC: the store compares instants as texts, and a campaign
-- launched from the command line with a local time (e.g. +01:00) compared wrongly with now.
UPDATE survey_campaigns
   SET opens_at = strftime('%Y-%m-%dT%H:%M:%S', opens_at) || '+00:00'
 WHERE opens_at NOT LIKE '%+00:00';
UPDATE survey_campaigns
   SET closes_at = strftime('%Y-%m-%dT%H:%M:%S', closes_at) || '+00:00'
 WHERE closes_at NOT LIKE '%+00:00';
