ALTER TABLE `alerts` ADD `email_resumed_at` integer;--> statement-breakpoint
CREATE INDEX `tenders_updated_at_idx` ON `tenders` (`updated_at`);