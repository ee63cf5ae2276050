-- Toolsets join adapters and tools in `resources`. SQLite cannot alter a CHECK constraint, so the table is
-- rebuilt; the rebuild drops the revision triggers of migration 0002 with the old table, so they are made again.
CREATE TABLE `__new_resources` (
	`kind` text NOT NULL,
	`name` text NOT NULL,
	`uid` text DEFAULT '' NOT NULL,
	`spec` text NOT NULL,
	`version` integer NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_updated_at` integer NOT NULL,
	PRIMARY KEY(`kind`, `name`),
	CONSTRAINT "resources_kind_check" CHECK("kind" in ('adapter', 'tool', 'toolset'))
);
--> statement-breakpoint
INSERT INTO `__new_resources`("kind", "name", "uid", "spec", "version", "created_by", "created_at", "last_updated_at") SELECT "kind", "name", "uid", "spec", "version", "created_by", "created_at", "last_updated_at" FROM `resources`;--> statement-breakpoint
DROP TABLE `resources`;--> statement-breakpoint
ALTER TABLE `__new_resources` RENAME TO `resources`;--> statement-breakpoint
CREATE TRIGGER `resources_revision_insert` AFTER INSERT ON `resources`
BEGIN
	UPDATE `registry_revision` SET `value` = `value` + 1 WHERE `id` = 1;
END;
--> statement-breakpoint
CREATE TRIGGER `resources_revision_update` AFTER UPDATE ON `resources`
BEGIN
	UPDATE `registry_revision` SET `value` = `value` + 1 WHERE `id` = 1;
END;
--> statement-breakpoint
CREATE TRIGGER `resources_revision_delete` AFTER DELETE ON `resources`
BEGIN
	UPDATE `registry_revision` SET `value` = `value` + 1 WHERE `id` = 1;
END;
