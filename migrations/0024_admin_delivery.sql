CREATE INDEX `alert_matches_matched_idx` ON `alert_matches` (`matched_at`);--> statement-breakpoint
CREATE INDEX `notifications_type_created_idx` ON `notifications` (`type`,`created_at`);--> statement-breakpoint
CREATE INDEX `email_outbox_delivery_idx` ON `email_outbox` (`created_at`,`template`,`status`);--> statement-breakpoint
CREATE INDEX `email_suppressions_created_idx` ON `email_suppressions` (`created_at`);--> statement-breakpoint
CREATE INDEX `reminder_marks_sent_idx` ON `reminder_marks` (`sent_at`);