CREATE TABLE "tool_pins" (
	"adapter" text COLLATE "C" NOT NULL,
	"tool" text COLLATE "C" NOT NULL,
	"hash" text NOT NULL,
	"definition" json NOT NULL,
	"pinned_by" text NOT NULL,
	"pinned_at" timestamp (3) with time zone NOT NULL,
	"reported_hash" text,
	CONSTRAINT "tool_pins_adapter_tool_pk" PRIMARY KEY("adapter","tool")
);
