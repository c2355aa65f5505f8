CREATE TABLE `reminder_marks` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`tender_id` text NOT NULL,
	`mark_days` integer NOT NULL,
	`sent_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`tender_id`) REFERENCES `tenders`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `reminder_marks_unique` ON `reminder_marks` (`user_id`,`tender_id`,`mark_days`);--> statement-breakpoint
CREATE INDEX `reminder_marks_tender_idx` ON `reminder_marks` (`tender_id`);--> statement-breakpoint
CREATE TABLE `tender_changes` (
	`id` text PRIMARY KEY NOT NULL,
	`tender_id` text NOT NULL,
	`changes` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch() * 1000) NOT NULL,
	`fanned_out_at` integer,
	`claim_id` text,
	`followers_after` text,
	FOREIGN KEY (`tender_id`) REFERENCES `tenders`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `tender_changes_pending_idx` ON `tender_changes` (`created_at`) WHERE fanned_out_at IS NULL;--> statement-breakpoint
CREATE INDEX `tender_changes_tender_idx` ON `tender_changes` (`tender_id`);--> statement-breakpoint
ALTER TABLE `user_preferences` ADD `reminder_days` text DEFAULT '[7,3,1]' NOT NULL;--> statement-breakpoint
CREATE INDEX `favorites_reminder_idx` ON `favorites` (`tender_id`) WHERE bid_status IN ('planning', 'preparing');--> statement-breakpoint
CREATE INDEX `alert_matches_tender_idx` ON `alert_matches` (`tender_id`,`matched_at`);