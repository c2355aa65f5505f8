ALTER TABLE `tender_changes` ADD `claim_id` text;--> statement-breakpoint
CREATE INDEX `alert_matches_tender_idx` ON `alert_matches` (`tender_id`,`matched_at`);