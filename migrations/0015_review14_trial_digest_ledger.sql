ALTER TABLE `user_preferences` ADD `digest_resumed_at` integer;--> statement-breakpoint
ALTER TABLE `users` ADD `trial_started_at` integer;--> statement-breakpoint
ALTER TABLE `invitation_sends` ADD `creator_id` text;--> statement-breakpoint
CREATE INDEX `invitation_sends_creator_created_idx` ON `invitation_sends` (`creator_id`,`created_at`);--> statement-breakpoint
-- hand-written: a user who already created an organization has had their trial (it started with their first).
UPDATE `users` SET `trial_started_at` = (SELECT min(o.`created_at`) FROM `organizations` o WHERE o.`created_by` = `users`.`id`) WHERE `trial_started_at` IS NULL AND EXISTS (SELECT 1 FROM `organizations` o WHERE o.`created_by` = `users`.`id`);--> statement-breakpoint
-- hand-written: the ledger's existing rows name their organization's creator where the organization still exists.
UPDATE `invitation_sends` SET `creator_id` = (SELECT o.`created_by` FROM `organizations` o WHERE o.`id` = `invitation_sends`.`organization_id`) WHERE `creator_id` IS NULL;
