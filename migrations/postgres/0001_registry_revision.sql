CREATE TABLE "registry_revision" (
	"id" integer PRIMARY KEY NOT NULL,
	"value" bigint NOT NULL,
	CONSTRAINT "registry_revision_single_row" CHECK ("registry_revision"."id" = 1)
);
