CREATE TABLE `oauth_grants` (
	`user_id` text NOT NULL,
	`adapter` text NOT NULL,
	`adapter_uid` text NOT NULL,
	`scopes` text NOT NULL,
	`key_id` text NOT NULL,
	`iv` text NOT NULL,
	`ciphertext` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer,
	`last_updated_at` integer NOT NULL,
	PRIMARY KEY(`user_id`, `adapter`)
);
