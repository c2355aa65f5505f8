-- Admin user search: free text that matches ANY PART of the email or the name, index-backed.
-- An FTS5 `trigram` index (drizzle cannot model virtual tables, so this is hand-written): every
-- 3-character window of the text is a token, so `MATCH '"ohn.do"'` finds "john.doe@…" without a
-- full-table LIKE. Queries under 3 characters cannot use a trigram index; the API refuses them
-- (422). External-content table: the text lives once, in `users`; triggers keep the index in sync.
-- Note: `wrangler d1 export` refuses databases with virtual tables; see README (backups).
CREATE VIRTUAL TABLE `users_fts` USING fts5(
	`email`,
	`full_name`,
	content='users',
	content_rowid='rowid',
	tokenize='trigram'
);
--> statement-breakpoint
-- Index the users that exist already.
INSERT INTO `users_fts` (`users_fts`) VALUES ('rebuild');
--> statement-breakpoint
CREATE TRIGGER `users_fts_after_insert` AFTER INSERT ON `users` BEGIN
	INSERT INTO `users_fts` (rowid, `email`, `full_name`) VALUES (new.rowid, new.`email`, new.`full_name`);
END;
--> statement-breakpoint
CREATE TRIGGER `users_fts_after_delete` AFTER DELETE ON `users` BEGIN
	INSERT INTO `users_fts` (`users_fts`, rowid, `email`, `full_name`) VALUES ('delete', old.rowid, old.`email`, old.`full_name`);
END;
--> statement-breakpoint
CREATE TRIGGER `users_fts_after_update` AFTER UPDATE OF `email`, `full_name` ON `users` BEGIN
	INSERT INTO `users_fts` (`users_fts`, rowid, `email`, `full_name`) VALUES ('delete', old.rowid, old.`email`, old.`full_name`);
	INSERT INTO `users_fts` (rowid, `email`, `full_name`) VALUES (new.rowid, new.`email`, new.`full_name`);
END;
