CREATE TABLE "oauth_grants" (
	"user_id" text NOT NULL,
	"adapter" text COLLATE "C" NOT NULL,
	"adapter_uid" text NOT NULL,
	"scopes" text NOT NULL,
	"key_id" text NOT NULL,
	"iv" text NOT NULL,
	"ciphertext" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"expires_at" timestamp (3) with time zone,
	"last_updated_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "oauth_grants_user_id_adapter_pk" PRIMARY KEY("user_id","adapter")
);
