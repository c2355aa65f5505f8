CREATE TABLE `email_suppressions` (
	`user_id` text PRIMARY KEY NOT NULL,
	`address` text NOT NULL,
	`reason` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch() * 1000) NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `user_preferences` ADD `next_digest_at` integer DEFAULT 0;--> statement-breakpoint
CREATE INDEX `user_preferences_next_digest_idx` ON `user_preferences` (`next_digest_at`) WHERE next_digest_at IS NOT NULL;--> statement-breakpoint
ALTER TABLE `tenders` ADD `match_attempts` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `tenders` ADD `match_parked_at` integer;--> statement-breakpoint
CREATE INDEX `tenders_match_parked_idx` ON `tenders` (`match_parked_at`) WHERE match_parked_at IS NOT NULL;--> statement-breakpoint
ALTER TABLE `alert_matches` ADD `outbox_id` text;--> statement-breakpoint
CREATE INDEX `alert_matches_outbox_idx` ON `alert_matches` (`outbox_id`) WHERE outbox_id IS NOT NULL;--> statement-breakpoint
-- hand-written: backfill of next_digest_at. The column's default 0 ("due now") already gives every
-- existing row a value the digest job picks up at its next tick, oldest first; the job then decides
-- with the same rule as before (isDigestDue: slot within the catch-up window, not sent since) and
-- stores the user's real next slot. A time zone cannot be evaluated in SQL, so the first tick
-- computes it (in budgeted batches). Users who want no digest are never looked at.
UPDATE `user_preferences` SET `next_digest_at` = NULL WHERE `email_digest_frequency` = 'never';
--> statement-breakpoint
-- hand-written: every writer of the digest schedule (PATCH /me/preferences, one-click unsubscribe,
-- admin import, SQL by hand) moves next_digest_at: 0 = "recompute at the next tick", NULL = never.
CREATE TRIGGER `user_preferences_digest_schedule_changed` AFTER UPDATE OF `email_digest_frequency`, `email_digest_time` ON `user_preferences`
WHEN OLD.`email_digest_frequency` IS NOT NEW.`email_digest_frequency` OR OLD.`email_digest_time` IS NOT NEW.`email_digest_time` BEGIN
	UPDATE `user_preferences` SET `next_digest_at` = CASE WHEN NEW.`email_digest_frequency` = 'never' THEN NULL ELSE 0 END WHERE `user_id` = NEW.`user_id`;
END;
--> statement-breakpoint
-- hand-written: the digest time is local to the profile's time zone, so a new zone moves it too.
CREATE TRIGGER `user_profiles_timezone_digest` AFTER UPDATE OF `timezone` ON `user_profiles`
WHEN OLD.`timezone` IS NOT NEW.`timezone` BEGIN
	UPDATE `user_preferences` SET `next_digest_at` = 0 WHERE `user_id` = NEW.`user_id` AND `next_digest_at` IS NOT NULL;
END;
