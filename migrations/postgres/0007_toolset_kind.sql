-- Toolsets join adapters and tools in "resources" (the revision trigger of migration 0002 covers them too).
ALTER TABLE "resources" DROP CONSTRAINT "resources_kind_check";--> statement-breakpoint
ALTER TABLE "resources" ADD CONSTRAINT "resources_kind_check" CHECK ("resources"."kind" in ('adapter', 'tool', 'toolset'));