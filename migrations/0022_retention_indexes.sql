CREATE INDEX `tender_interactions_created_idx` ON `tender_interactions` (`created_at`);--> statement-breakpoint
CREATE INDEX `notifications_created_idx` ON `notifications` (`created_at`);