CREATE TABLE "resources" (
	"kind" text NOT NULL,
	"name" text COLLATE "C" NOT NULL,
	"spec" json NOT NULL,
	"version" integer NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"last_updated_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "resources_kind_name_pk" PRIMARY KEY("kind","name"),
	CONSTRAINT "resources_kind_check" CHECK ("resources"."kind" in ('adapter', 'tool'))
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL
);
