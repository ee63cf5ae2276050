-- The change counter other processes read to learn of writes: bumped by triggers in the writing transaction.
INSERT INTO `registry_revision` (`id`, `value`) VALUES (1, 0) ON CONFLICT (`id`) DO NOTHING;
--> statement-breakpoint
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
