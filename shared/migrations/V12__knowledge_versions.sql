-- The version of each shop's knowledge base (SEARCH_BACKEND=postgres, issue 12 §2).
--
-- A hybrid passage search ranks the shop's passages by embedding from a copy held in the
-- process (shared/src/search/passage_vectors.rs), keyed by this version: every statement that
-- inserts, updates or deletes kb_chunks rows gives each shop it touched a new version, in the
-- same transaction, so a search that reads the version also knows whether its copy is still
-- what the table holds. Versions come from one sequence and are never reused (a shop deleted
-- and connected again cannot meet an old copy). Any instance sees a change at its next search.
CREATE SEQUENCE kb_version_seq;

CREATE TABLE kb_versions (
    tenant_id  uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    version    bigint NOT NULL
);
ALTER TABLE kb_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE kb_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kb_versions TO igshop_app_rw
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
CREATE POLICY platform_all ON kb_versions TO igshop_platform USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON kb_versions TO igshop_app_rw;
GRANT USAGE ON SEQUENCE kb_version_seq TO igshop_app_rw;

-- Runs as the role that changed the rows (the shop's own under its policy, or the platform),
-- once per statement. Shops whose tenant row is gone (the cascade of a shop deletion) get no
-- version: their kb_versions row goes with them.
CREATE FUNCTION kb_chunks_changed() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    INSERT INTO public.kb_versions AS v (tenant_id, version)
    SELECT s.tenant_id, nextval('public.kb_version_seq')
      FROM (SELECT DISTINCT c.tenant_id FROM changed c) AS s
     WHERE EXISTS (SELECT 1 FROM public.tenants t WHERE t.id = s.tenant_id)
    ON CONFLICT (tenant_id) DO UPDATE SET version = excluded.version;
    RETURN NULL;
END
$$;

CREATE TRIGGER kb_chunks_inserted AFTER INSERT ON kb_chunks
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION kb_chunks_changed();
CREATE TRIGGER kb_chunks_updated AFTER UPDATE ON kb_chunks
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION kb_chunks_changed();
CREATE TRIGGER kb_chunks_deleted AFTER DELETE ON kb_chunks
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION kb_chunks_changed();

-- Shops that already have passages start at a version of their own.
INSERT INTO kb_versions (tenant_id, version)
SELECT DISTINCT tenant_id, 0 FROM kb_chunks;
UPDATE kb_versions SET version = nextval('kb_version_seq');
