-- A compensation that could not release its reservation (Inventory unreachable at that moment):
-- the line owes the release, and the resume job retries it until Inventory confirms it. A
-- confirmed hold never times out at Inventory, so without this its stock would stay held forever.
ALTER TABLE fill_lines ADD COLUMN release_owed boolean NOT NULL DEFAULT false;
CREATE INDEX fill_lines_release_owed ON fill_lines (fill_id, position) WHERE release_owed;
