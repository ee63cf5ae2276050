CREATE TABLE `secrets` (
	`name` text PRIMARY KEY NOT NULL,
	`uid` text NOT NULL,
	`key_id` text NOT NULL,
	`iv` text NOT NULL,
	`ciphertext` text NOT NULL,
	`version` integer NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_updated_at` integer NOT NULL
);
