-- The risk list's level orders, open risks first (measured with 20,000 risks: sorting by
-- level sorted every open risk with all its columns for each page, 60–190 ms on SQLite; now an
-- index walk). Leading with the status also tells SQLite's planner, through ANALYZE, that
-- "status = 'open'" is not selective, so coverage drives its joins from a clause's controls
-- instead of probing every open risk once per control. Keep in step with
-- ../sqlite/0008_risk_indexes.sql.
CREATE INDEX risks_status_level ON risks(status, (likelihood * impact) DESC, impact DESC, code);
CREATE INDEX risks_status_residual ON risks(status, (residual_likelihood * residual_impact) DESC, residual_impact DESC, code);
