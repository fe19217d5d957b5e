-- The search grams were indexed a second time by asset, only so that an asset's old grams
-- could be found when its name, location or description changes. They are found from its old
-- search key instead (Store::write_asset), and every import of 100,000 assets no longer writes
-- 1.6 million entries into a second index. A change to how grams are made (mamori_domain::
-- assets::search) must rebuild asset_grams in a migration. Keep in step with
-- ../sqlite/0010_asset_grams_by_gram_only.sql.
DROP INDEX asset_grams_asset;
