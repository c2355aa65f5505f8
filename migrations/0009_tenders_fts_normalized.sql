ALTER TABLE `tenders` ADD `search_title` text;--> statement-breakpoint
ALTER TABLE `tenders` ADD `search_description` text;--> statement-breakpoint
-- The FTS index moves from the raw text to the normalised columns (written by the upsert with the
-- matcher's normalizeText). Rows already stored keep their raw text there (what was indexed
-- before), so nothing is lost; a row is normalised when it is next upserted with a change.
UPDATE `tenders` SET `search_title` = `title`, `search_description` = coalesce(`description`, '');
--> statement-breakpoint
DROP TRIGGER IF EXISTS `tenders_fts_after_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `tenders_fts_after_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `tenders_fts_after_update`;
--> statement-breakpoint
DROP TABLE IF EXISTS `tenders_fts`;
--> statement-breakpoint
CREATE VIRTUAL TABLE `tenders_fts` USING fts5(
	`search_title`,
	`search_description`,
	content='tenders',
	content_rowid='rowid',
	tokenize='unicode61 remove_diacritics 2'
);
--> statement-breakpoint
INSERT INTO `tenders_fts` (`tenders_fts`) VALUES ('rebuild');
--> statement-breakpoint
-- A row written by hand in SQL without the normalised columns is indexed by its raw text; the
-- delete and update triggers remove exactly what the insert trigger indexed.
CREATE TRIGGER `tenders_fts_after_insert` AFTER INSERT ON `tenders` BEGIN
	INSERT INTO `tenders_fts` (rowid, `search_title`, `search_description`)
	VALUES (new.rowid, coalesce(new.`search_title`, new.`title`), coalesce(new.`search_description`, new.`description`, ''));
END;
--> statement-breakpoint
CREATE TRIGGER `tenders_fts_after_delete` AFTER DELETE ON `tenders` BEGIN
	INSERT INTO `tenders_fts` (`tenders_fts`, rowid, `search_title`, `search_description`)
	VALUES ('delete', old.rowid, coalesce(old.`search_title`, old.`title`), coalesce(old.`search_description`, old.`description`, ''));
END;
--> statement-breakpoint
CREATE TRIGGER `tenders_fts_after_update` AFTER UPDATE OF `title`, `description`, `search_title`, `search_description` ON `tenders` BEGIN
	INSERT INTO `tenders_fts` (`tenders_fts`, rowid, `search_title`, `search_description`)
	VALUES ('delete', old.rowid, coalesce(old.`search_title`, old.`title`), coalesce(old.`search_description`, old.`description`, ''));
	INSERT INTO `tenders_fts` (rowid, `search_title`, `search_description`)
	VALUES (new.rowid, coalesce(new.`search_title`, new.`title`), coalesce(new.`search_description`, new.`description`, ''));
END;
