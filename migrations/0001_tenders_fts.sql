-- Full-text index over tenders (drizzle cannot model FTS5 virtual tables, so this is hand-written).
-- External-content table: the text lives once, in `tenders`; triggers keep the index in sync.
-- `remove_diacritics 2` makes matching ignore accents, as the keyword rule of API.md requires.
-- Note: `wrangler d1 export` refuses databases with virtual tables; see README (backups).
CREATE VIRTUAL TABLE `tenders_fts` USING fts5(
	`title`,
	`description`,
	content='tenders',
	content_rowid='rowid',
	tokenize='unicode61 remove_diacritics 2'
);
--> statement-breakpoint
CREATE TRIGGER `tenders_fts_after_insert` AFTER INSERT ON `tenders` BEGIN
	INSERT INTO `tenders_fts` (rowid, `title`, `description`) VALUES (new.rowid, new.`title`, coalesce(new.`description`, ''));
END;
--> statement-breakpoint
CREATE TRIGGER `tenders_fts_after_delete` AFTER DELETE ON `tenders` BEGIN
	INSERT INTO `tenders_fts` (`tenders_fts`, rowid, `title`, `description`) VALUES ('delete', old.rowid, old.`title`, coalesce(old.`description`, ''));
END;
--> statement-breakpoint
CREATE TRIGGER `tenders_fts_after_update` AFTER UPDATE OF `title`, `description` ON `tenders` BEGIN
	INSERT INTO `tenders_fts` (`tenders_fts`, rowid, `title`, `description`) VALUES ('delete', old.rowid, old.`title`, coalesce(old.`description`, ''));
	INSERT INTO `tenders_fts` (rowid, `title`, `description`) VALUES (new.rowid, new.`title`, coalesce(new.`description`, ''));
END;
