-- The search grams are an index Mamori derives from each asset (Store::write_asset writes them
-- with the asset, in the same transaction), and assets are never deleted, only disposed. Their
-- foreign key to assets checked every gram on its own (1.6 million lookups for an import of
-- 100,000 assets). SQLite cannot drop a constraint, so the table is rebuilt as it was, without
-- it. Keep in step with ../postgres/0009_asset_grams_without_foreign_key.sql.
CREATE TABLE asset_grams_new (
    gram     TEXT NOT NULL,
    asset_id INTEGER NOT NULL,
    PRIMARY KEY (gram, asset_id)
) WITHOUT ROWID;
INSERT INTO asset_grams_new (gram, asset_id) SELECT gram, asset_id FROM asset_grams ORDER BY gram, asset_id;
DROP TABLE asset_grams;
ALTER TABLE asset_grams_new RENAME TO asset_grams;
CREATE INDEX asset_grams_asset ON asset_grams(asset_id);
