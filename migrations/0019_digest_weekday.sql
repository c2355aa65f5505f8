ALTER TABLE `user_preferences` ADD `email_digest_weekday` text DEFAULT 'monday' NOT NULL;--> statement-breakpoint
-- hand-written: a new weekly-digest weekday moves the next slot, like a new digest time (0013's trigger).
CREATE TRIGGER `user_preferences_digest_weekday_changed` AFTER UPDATE OF `email_digest_weekday` ON `user_preferences`
WHEN OLD.`email_digest_weekday` IS NOT NEW.`email_digest_weekday` BEGIN
	UPDATE `user_preferences` SET `next_digest_at` = CASE WHEN NEW.`email_digest_frequency` = 'never' THEN NULL ELSE 0 END WHERE `user_id` = NEW.`user_id`;
END;
