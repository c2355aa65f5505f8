CREATE TABLE `tender_searches` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text,
	`source` text NOT NULL,
	`device_type` text,
	`created_at` integer DEFAULT (unixepoch() * 1000) NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `tender_searches_user_idx` ON `tender_searches` (`user_id`,`created_at`);