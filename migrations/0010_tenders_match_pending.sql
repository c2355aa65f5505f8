ALTER TABLE `tenders` ADD `match_pending_since` integer;--> statement-breakpoint
CREATE INDEX `tenders_match_pending_idx` ON `tenders` (`match_pending_since`) WHERE match_pending_since IS NOT NULL;