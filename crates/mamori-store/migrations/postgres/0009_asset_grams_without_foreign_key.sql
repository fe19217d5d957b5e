-- The search grams are an index Mamori derives from each asset (Store::write_asset writes them
-- with the asset, in the same transaction), and assets are never deleted, only disposed. The
-- foreign key to assets checked every gram on its own: 1.6 million lookups for an import of
-- 100,000 assets, half the time of writing the grams (14.2 s with it, 6.8 s without, measured
-- on the benchmark's data). Keep in step with ../sqlite/0009_asset_grams_without_foreign_key.sql.
ALTER TABLE asset_grams DROP CONSTRAINT IF EXISTS asset_grams_asset_id_fkey;
