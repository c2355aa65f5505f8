CREATE INDEX `invitations_org_created_idx` ON `invitations` (`organization_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `invitations_email_created_idx` ON `invitations` (`email`,`created_at`);--> statement-breakpoint
CREATE INDEX `organizations_created_by_idx` ON `organizations` (`created_by`);