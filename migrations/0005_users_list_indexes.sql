DROP INDEX `users_status_idx`;--> statement-breakpoint
DROP INDEX `users_account_type_idx`;--> statement-breakpoint
CREATE INDEX `users_status_created_idx` ON `users` (`status`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `users_account_type_created_idx` ON `users` (`account_type`,`created_at`,`id`);