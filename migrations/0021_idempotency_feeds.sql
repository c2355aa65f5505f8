CREATE TABLE `idempotency_keys` (
	`caller` text NOT NULL,
	`key` text NOT NULL,
	`user_id` text,
	`fingerprint` text NOT NULL,
	`state` text NOT NULL,
	`claim` text NOT NULL,
	`lease_until` integer NOT NULL,
	`status` integer,
	`headers` text,
	`body` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`caller`, `key`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `idempotency_keys_expires_idx` ON `idempotency_keys` (`expires_at`);--> statement-breakpoint
CREATE INDEX `idempotency_keys_user_idx` ON `idempotency_keys` (`user_id`);--> statement-breakpoint
CREATE INDEX `tenders_updated_id_idx` ON `tenders` (`updated_at`,`id`);--> statement-breakpoint
CREATE INDEX `alert_matches_user_feed_idx` ON `alert_matches` (`user_id`,`matched_at`,`id`);