CREATE TABLE `tool_pins` (
	`adapter` text NOT NULL,
	`tool` text NOT NULL,
	`hash` text NOT NULL,
	`definition` text NOT NULL,
	`pinned_by` text NOT NULL,
	`pinned_at` integer NOT NULL,
	`reported_hash` text,
	PRIMARY KEY(`adapter`, `tool`)
);
