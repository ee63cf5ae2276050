-- The change counter replicas read to learn of writes: bumped by a trigger in the writing transaction, and
-- announced with NOTIFY (delivered at commit) to every replica that LISTENs on mcp_gateway_registry.
INSERT INTO "registry_revision" ("id", "value") VALUES (1, 0) ON CONFLICT ("id") DO NOTHING;
--> statement-breakpoint
CREATE FUNCTION "registry_revision_bump"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	next_value bigint;
BEGIN
	UPDATE "registry_revision" SET "value" = "value" + 1 WHERE "id" = 1 RETURNING "value" INTO next_value;
	PERFORM pg_notify('mcp_gateway_registry', next_value::text);
	RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "resources_registry_revision" AFTER INSERT OR UPDATE OR DELETE ON "resources"
	FOR EACH ROW EXECUTE FUNCTION "registry_revision_bump"();
