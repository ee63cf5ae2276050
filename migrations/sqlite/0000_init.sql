CREATE TABLE `resources` (
	`kind` text NOT NULL,
	`name` text NOT NULL,
	`spec` text NOT NULL,
	`version` integer NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_updated_at` integer NOT NULL,
	PRIMARY KEY(`kind`, `name`),
	CONSTRAINT "resources_kind_check" CHECK("resources"."kind" in ('adapter', 'tool'))
);
--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`created_at` integer NOT NULL
);
