-- Consultation: indexes for the summaries, the latest reports and the exports.

-- Latest value of an indicator, and reports of a period: walk a project's reports by period.
CREATE INDEX reports_by_project_kind_period ON reports (project_id, kind, period_end, id);
-- The latest reports across every project (an administrator's /latest, exports by date).
CREATE INDEX reports_by_created ON reports (created_at, id);
