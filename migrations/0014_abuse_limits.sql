CREATE TABLE `invitation_sends` (
	`id` text PRIMARY KEY NOT NULL,
	`organization_id` text NOT NULL,
	`email_hash` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `invitation_sends_email_created_idx` ON `invitation_sends` (`email_hash`,`created_at`);--> statement-breakpoint
CREATE INDEX `invitation_sends_org_created_idx` ON `invitation_sends` (`organization_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `invitation_sends_created_idx` ON `invitation_sends` (`created_at`);--> statement-breakpoint
CREATE INDEX `organizations_created_by_idx` ON `organizations` (`created_by`);