-- Indexes for the asset list's filters and sorts (measured with 100,000 assets: a filtered,
-- sorted page went from a full scan to an index search). Keep in step with
-- ../postgres/0003_asset_indexes.sql.
CREATE INDEX assets_type_c ON assets(asset_type, confidentiality, review_on);
CREATE INDEX assets_c ON assets(confidentiality, review_on);
CREATE INDEX assets_segment ON assets(segment, personal_data);
CREATE INDEX assets_status_review ON assets(status, review_on);
