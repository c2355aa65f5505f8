ALTER TABLE `favorites` ADD `organization_id` text REFERENCES organizations(id) ON DELETE SET NULL;--> statement-breakpoint
CREATE INDEX `favorites_org_idx` ON `favorites` (`organization_id`,`id`);--> statement-breakpoint
ALTER TABLE `notes` ADD `organization_id` text REFERENCES organizations(id) ON DELETE SET NULL;--> statement-breakpoint
CREATE INDEX `notes_org_tender_idx` ON `notes` (`organization_id`,`tender_id`);--> statement-breakpoint
-- hand-written: drizzle-kit drops `ON DELETE SET NULL` from an added column's REFERENCES (the
-- snapshot has it); without it, deleting an organization with shared items fails on D1's FKs.
-- The two ALTERs above carry it by hand.
-- hand-written: backfill. A note shared before this migration was shown to every organization of
-- its author. It now goes to the author's only organization where the author may share (owner,
-- admin or member); with none or several such organizations it becomes private (sharing it with
-- one of several would guess; the author can share it again, naming one). Favorites were never
-- explicitly shared: they all start private.
UPDATE `notes` SET `organization_id` = (
  SELECT m.organization_id FROM organization_members m WHERE m.user_id = notes.user_id AND m.role IN ('owner', 'admin', 'member')
) WHERE `is_shared` = 1 AND (
  SELECT count(*) FROM organization_members m WHERE m.user_id = notes.user_id AND m.role IN ('owner', 'admin', 'member')
) = 1;--> statement-breakpoint
UPDATE `notes` SET `is_shared` = 0 WHERE `is_shared` = 1 AND `organization_id` IS NULL;
