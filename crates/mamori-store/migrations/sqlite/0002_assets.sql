-- Information assets (SQLite). Keep in step with ../postgres/0002_assets.sql.

-- The levels of the organisation's classification scheme (the scheme's code is the setting
-- `classification_scheme`); definitions are editable.
CREATE TABLE classification_levels (
    axis          TEXT NOT NULL CHECK (axis IN ('c', 'i', 'a')),
    code          TEXT NOT NULL,
    rank          INTEGER NOT NULL,
    tier          INTEGER NOT NULL CHECK (tier BETWEEN 1 AND 3),
    definition_ja TEXT NOT NULL,
    definition_en TEXT NOT NULL,
    PRIMARY KEY (axis, code)
);

-- 取扱制限: a rule applies when an axis reaches its minimum tier.
CREATE TABLE handling_rules (
    code       TEXT PRIMARY KEY NOT NULL,
    label_ja   TEXT NOT NULL,
    label_en   TEXT NOT NULL,
    min_c      INTEGER,
    min_i      INTEGER,
    min_a      INTEGER,
    sort_order INTEGER NOT NULL DEFAULT 0
);

-- Uploaded files, content-addressed and kept in chunks.
CREATE TABLE files (
    sha256     TEXT PRIMARY KEY NOT NULL,
    size       INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE file_chunks (
    sha256 TEXT NOT NULL REFERENCES files(sha256),
    seq    INTEGER NOT NULL,
    data   BLOB NOT NULL,
    PRIMARY KEY (sha256, seq)
);

CREATE TABLE assets (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT NOT NULL,
    asset_type      TEXT NOT NULL,
    owner_unit_id   INTEGER NOT NULL REFERENCES units(id),
    custodian_id    INTEGER REFERENCES people(id),
    segment         TEXT NOT NULL DEFAULT 'none',
    confidentiality TEXT NOT NULL,
    integrity       TEXT NOT NULL,
    availability    TEXT NOT NULL,
    c_rank          INTEGER NOT NULL,
    location        TEXT NOT NULL DEFAULT '',
    description     TEXT NOT NULL DEFAULT '',
    personal_data   INTEGER NOT NULL DEFAULT 0 CHECK (personal_data IN (0, 1)),
    rto_hours       INTEGER,
    review_on       TEXT,
    status          TEXT NOT NULL DEFAULT 'in_use',
    disposed_on     TEXT,
    disposal_method TEXT NOT NULL DEFAULT '',
    search_text     TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX assets_owner ON assets(owner_unit_id, name, id);
CREATE INDEX assets_name ON assets(name, id);
CREATE INDEX assets_review ON assets(review_on);
CREATE INDEX assets_custodian ON assets(custodian_id);

-- The two-character grams of each asset's search key (see mamori_domain::assets::search).
CREATE TABLE asset_grams (
    gram     TEXT NOT NULL,
    asset_id INTEGER NOT NULL REFERENCES assets(id),
    PRIMARY KEY (gram, asset_id)
) WITHOUT ROWID;
CREATE INDEX asset_grams_asset ON asset_grams(asset_id);

CREATE TABLE asset_relations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    from_id    INTEGER NOT NULL REFERENCES assets(id),
    to_id      INTEGER NOT NULL REFERENCES assets(id),
    kind       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (from_id, to_id, kind)
);
CREATE INDEX asset_relations_to ON asset_relations(to_id);

-- Files attached to an asset: evidence, or the disposal certificate.
CREATE TABLE asset_attachments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    asset_id     INTEGER NOT NULL REFERENCES assets(id),
    purpose      TEXT NOT NULL CHECK (purpose IN ('evidence', 'disposal_certificate')),
    sha256       TEXT NOT NULL REFERENCES files(sha256),
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    uploaded_by  TEXT NOT NULL,
    uploaded_at  TEXT NOT NULL
);
CREATE INDEX asset_attachments_asset ON asset_attachments(asset_id);

-- Everyone may see their own unit's assets up to confidentiality tier 2.
UPDATE roles SET permissions = permissions || ' assets.read_basic'
 WHERE code = 'staff' AND permissions NOT LIKE '%assets.read_basic%';
