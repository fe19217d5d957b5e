-- The risk register (issue 5; DOMAIN.md §5). Keep in step with ../postgres/0007_risks.sql.

-- Recording and changing risks: the roles that run a unit's security (a fresh database gets it
-- from the role seed, which runs after the migrations).
UPDATE roles SET permissions = permissions || ' risks.edit'
 WHERE code IN ('chief_officer', 'unit_officer', 'unit_manager', 'system_manager')
   AND permissions NOT LIKE '%risks.edit%';

-- Ratings are on the organisation's scale (settings.risk_scale); levels are stored as the
-- domain's matrix gave them when the risk was written (low / medium / high).
-- acceptance: NULL unless the treatment is 受容 above the threshold; pending until the CISO
-- decides (approved / rejected).
CREATE TABLE risks (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    code                    TEXT NOT NULL UNIQUE,
    title                   TEXT NOT NULL,
    unit_id                 INTEGER NOT NULL REFERENCES units(id),
    owner_id                INTEGER REFERENCES people(id),
    threat_id               INTEGER NOT NULL REFERENCES threats(id),
    weakness                TEXT NOT NULL DEFAULT '',
    asset_group             TEXT NOT NULL DEFAULT '',
    likelihood              INTEGER NOT NULL,
    impact                  INTEGER NOT NULL,
    impact_reason           TEXT NOT NULL DEFAULT '',
    level                   TEXT NOT NULL CHECK (level IN ('low', 'medium', 'high')),
    treatment               TEXT NOT NULL CHECK (treatment IN ('reduce', 'avoid', 'transfer', 'accept')),
    treatment_note          TEXT NOT NULL DEFAULT '',
    residual_likelihood     INTEGER NOT NULL,
    residual_impact         INTEGER NOT NULL,
    residual_level          TEXT NOT NULL CHECK (residual_level IN ('low', 'medium', 'high')),
    acceptance              TEXT CHECK (acceptance IN ('pending', 'approved', 'rejected')),
    acceptance_requested_by TEXT,
    acceptance_requested_at TEXT,
    acceptance_decided_by   TEXT,
    acceptance_decided_at   TEXT,
    acceptance_note         TEXT NOT NULL DEFAULT '',
    review_on               TEXT,
    reviewed_on             TEXT,
    status                  TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL
);
CREATE INDEX risks_unit ON risks(unit_id, code);
CREATE INDEX risks_threat ON risks(threat_id);
CREATE INDEX risks_inherent ON risks(likelihood, impact);
CREATE INDEX risks_residual ON risks(residual_likelihood, residual_impact);
CREATE INDEX risks_review ON risks(review_on);

-- The assets a risk names.
CREATE TABLE risk_assets (
    risk_id  INTEGER NOT NULL REFERENCES risks(id),
    asset_id INTEGER NOT NULL REFERENCES assets(id),
    PRIMARY KEY (risk_id, asset_id)
);
CREATE INDEX risk_assets_asset ON risk_assets(asset_id);

-- The controls that treat a risk.
CREATE TABLE risk_controls (
    risk_id    INTEGER NOT NULL REFERENCES risks(id),
    control_id INTEGER NOT NULL REFERENCES controls(id),
    PRIMARY KEY (risk_id, control_id)
);
CREATE INDEX risk_controls_control ON risk_controls(control_id);

-- Reasons a risk must be reviewed, raised by something else (a linked asset's class changed,
-- an incident or an audit finding linked to it): the one mechanism every later record uses.
-- Open while cleared_at is NULL; reviewing the risk clears them.
CREATE TABLE risk_review_reasons (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    risk_id    INTEGER NOT NULL REFERENCES risks(id),
    kind       TEXT NOT NULL,
    reference  TEXT NOT NULL,
    reason     TEXT NOT NULL,
    raised_by  TEXT NOT NULL,
    raised_at  TEXT NOT NULL,
    cleared_by TEXT,
    cleared_at TEXT
);
CREATE INDEX risk_review_reasons_open ON risk_review_reasons(risk_id, cleared_at);
