-- 0001_ald_schema.sql - the tables, view and keys ald-engine uses in a Supabase project.
--
-- Safe on a FRESH project and on an EXISTING site whose tables were made by
-- the old Python controller: every statement is idempotent (IF NOT EXISTS,
-- or a DO block that checks the catalog first), nothing is dropped, no
-- existing column changes type. Applying this file twice is a no-op.
-- Apply with:  psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f 0001_ald_schema.sql
--
-- Statuses are text columns with named CHECK constraints rather than enums:
-- existing sites have text columns, and a CHECK can be added (or skipped)
-- without rewriting the column.

CREATE EXTENSION IF NOT EXISTS pgcrypto; -- gen_random_uuid() on PostgreSQL < 13

-- ---- machines -------------------------------------------------------------
CREATE TABLE IF NOT EXISTS machines (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL,
    machine_type text,
    status text NOT NULL DEFAULT 'offline',
    current_process_id uuid,
    current_operator_id uuid,
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS machine_state (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    machine_id uuid NOT NULL UNIQUE REFERENCES machines (id) ON DELETE CASCADE,
    current_state text NOT NULL,
    state_since timestamptz NOT NULL DEFAULT now(),
    process_id uuid,
    is_failure_mode boolean NOT NULL DEFAULT false,
    failure_description text,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS machine_components (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    machine_id uuid NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
    name text NOT NULL,
    type text NOT NULL,
    is_activated boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Parameter names and units live in a definitions table (as on existing
-- sites); the view component_parameters_full joins them back.
CREATE TABLE IF NOT EXISTS component_parameter_definitions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL,
    unit text,
    description text,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS component_parameters (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    component_id uuid NOT NULL REFERENCES machine_components (id) ON DELETE CASCADE,
    definition_id uuid REFERENCES component_parameter_definitions (id),
    data_type text NOT NULL DEFAULT 'float',
    min_value double precision,
    max_value double precision,
    current_value double precision,
    set_value double precision,
    is_writable boolean NOT NULL DEFAULT false,
    read_modbus_address integer,
    read_modbus_type text,
    write_modbus_address integer,
    write_modbus_type text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS component_parameters_component ON component_parameters (component_id);

-- ---- recipes -----------------------------------------------------------------
CREATE TABLE IF NOT EXISTS recipes (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL,
    description text,
    version integer NOT NULL DEFAULT 1,
    chamber_temperature_set_point double precision,
    pressure_set_point double precision,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS recipe_steps (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    recipe_id uuid NOT NULL REFERENCES recipes (id) ON DELETE CASCADE,
    parent_step_id uuid REFERENCES recipe_steps (id) ON DELETE CASCADE,
    sequence_number integer NOT NULL,
    name text NOT NULL,
    type text NOT NULL,
    parameters jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS recipe_steps_recipe ON recipe_steps (recipe_id, sequence_number);

CREATE TABLE IF NOT EXISTS valve_step_config (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    step_id uuid NOT NULL UNIQUE REFERENCES recipe_steps (id) ON DELETE CASCADE,
    valve_number integer NOT NULL,
    duration_ms integer NOT NULL
);

CREATE TABLE IF NOT EXISTS purge_step_config (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    step_id uuid NOT NULL UNIQUE REFERENCES recipe_steps (id) ON DELETE CASCADE,
    duration_ms integer NOT NULL,
    gas_type text NOT NULL DEFAULT 'N2',
    flow_rate double precision
);

CREATE TABLE IF NOT EXISTS loop_step_config (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    step_id uuid NOT NULL UNIQUE REFERENCES recipe_steps (id) ON DELETE CASCADE,
    iteration_count integer NOT NULL
);

CREATE TABLE IF NOT EXISTS parameter_step_config (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    step_id uuid NOT NULL UNIQUE REFERENCES recipe_steps (id) ON DELETE CASCADE,
    parameter_id uuid NOT NULL,
    target_value double precision NOT NULL,
    hold_duration_ms integer
);

CREATE TABLE IF NOT EXISTS recipe_parameters (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    recipe_id uuid NOT NULL REFERENCES recipes (id) ON DELETE CASCADE,
    parameter_name text NOT NULL,
    parameter_value text,
    parameter_unit text,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- ---- commands ------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS recipe_commands (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    type text NOT NULL,
    parameters jsonb,
    status text NOT NULL DEFAULT 'pending',
    machine_id uuid REFERENCES machines (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    executed_at timestamptz,
    error_message text
);
CREATE INDEX IF NOT EXISTS recipe_commands_pending ON recipe_commands (status, created_at);

CREATE TABLE IF NOT EXISTS parameter_control_commands (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    parameter_name text,
    component_parameter_id uuid,
    target_value double precision NOT NULL,
    machine_id uuid,
    write_modbus_address integer,
    data_type text,
    created_at timestamptz NOT NULL DEFAULT now(),
    executed_at timestamptz,
    completed_at timestamptz,
    error_message text
);
CREATE INDEX IF NOT EXISTS parameter_control_commands_pending
    ON parameter_control_commands (machine_id, created_at) WHERE executed_at IS NULL;

-- ---- runs -------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS operator_sessions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    operator_id uuid NOT NULL,
    machine_id uuid NOT NULL REFERENCES machines (id),
    start_time timestamptz NOT NULL DEFAULT now(),
    end_time timestamptz,
    status text NOT NULL DEFAULT 'active',
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS process_executions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id uuid REFERENCES operator_sessions (id),
    machine_id uuid NOT NULL REFERENCES machines (id),
    recipe_id uuid NOT NULL REFERENCES recipes (id),
    recipe_version jsonb,
    start_time timestamptz NOT NULL DEFAULT now(),
    end_time timestamptz,
    operator_id uuid,
    status text NOT NULL DEFAULT 'preparing',
    parameters jsonb,
    error_message text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS process_executions_machine ON process_executions (machine_id, status);

CREATE TABLE IF NOT EXISTS process_execution_state (
    execution_id uuid PRIMARY KEY REFERENCES process_executions (id) ON DELETE CASCADE,
    current_step_index integer,
    current_overall_step integer,
    total_overall_steps integer,
    current_step_type text,
    current_step_name text,
    current_valve_number integer,
    current_valve_duration_ms integer,
    current_purge_duration_ms integer,
    current_parameter_id uuid,
    current_parameter_value double precision,
    current_loop_count integer,
    current_loop_iteration integer,
    progress jsonb,
    last_updated timestamptz NOT NULL DEFAULT now()
);

-- ---- samples ------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS parameter_value_history (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    parameter_id uuid NOT NULL,
    value double precision,
    set_point double precision,
    "timestamp" timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS process_data_points (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    process_id uuid NOT NULL,
    parameter_id uuid NOT NULL,
    value double precision,
    set_point double precision,
    "timestamp" timestamptz NOT NULL DEFAULT now()
);

-- ---- health and leases ---------------------------------------------------------------
CREATE TABLE IF NOT EXISTS machine_health (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    machine_id uuid NOT NULL UNIQUE,
    plc_connected boolean NOT NULL DEFAULT false,
    plc_last_check timestamptz,
    plc_last_connected timestamptz,
    plc_reconnect_attempts integer NOT NULL DEFAULT 0,
    plc_error text,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- NEW: at most one active engine per machine (blue/green safety).
CREATE TABLE IF NOT EXISTS engine_leases (
    machine_id uuid PRIMARY KEY,
    holder text NOT NULL,
    expires_at timestamptz NOT NULL
);

-- ---- constraints added only when missing (existing sites may lack them) -------------
-- A named CHECK or UNIQUE is added when no constraint of that name exists.
-- Unique keys the engine's upserts rely on are added the same way; if a site
-- already holds duplicate rows, the ALTER fails with a clear message naming
-- the table (see docs/supabase.md, "Existing sites") and nothing else changes.
-- The sample tables' keys are handled further down: sites DO hold duplicate
-- samples, and those must neither stop the migration nor be deleted.
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN
        SELECT * FROM (VALUES
            ('machines', 'machines_status_check',
             'CHECK (status IN (''idle'', ''processing'', ''error'', ''offline''))'),
            ('recipe_commands', 'recipe_commands_status_check',
             'CHECK (status IN (''pending'', ''processing'', ''completed'', ''error''))'),
            ('process_executions', 'process_executions_status_check',
             'CHECK (status IN (''preparing'', ''running'', ''paused'', ''completed'','
             ' ''failed'', ''aborted''))'),
            ('component_parameters', 'component_parameters_data_type_check',
             'CHECK (data_type IN (''float'', ''int32'', ''int16'', ''binary''))'),
            -- machine_health and process_execution_state are upserted by key.
            ('machine_health', 'machine_health_machine_id_key', 'UNIQUE (machine_id)'),
            ('process_execution_state', 'process_execution_state_execution_id_key',
             'UNIQUE (execution_id)')
        ) AS t (tbl, name, def)
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_constraint
                       WHERE conname = c.name AND conrelid = c.tbl::regclass)
           -- an existing PRIMARY KEY/UNIQUE on exactly these columns serves too
           AND NOT (c.def LIKE 'UNIQUE%' AND EXISTS (
                SELECT 1 FROM pg_index i
                WHERE i.indrelid = c.tbl::regclass AND i.indisunique AND i.indpred IS NULL
                  AND (SELECT array_agg(a.attname::text ORDER BY a.attname)
                       FROM pg_attribute a
                       WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey))
                      = (SELECT array_agg(trim(both ' "' from x) ORDER BY trim(both ' "' from x))
                         FROM unnest(string_to_array(
                              substring(c.def from '\((.*)\)'), ',')) AS x)))
        THEN
            BEGIN
                EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I %s', c.tbl, c.name, c.def);
            EXCEPTION
                WHEN unique_violation THEN
                    RAISE EXCEPTION 'table % holds duplicate rows, so % (%) cannot be added',
                        c.tbl, c.name, c.def
                        USING HINT = 'remove the duplicates first: see docs/supabase.md, '
                                     'section "Existing sites"';
                WHEN check_violation THEN
                    RAISE WARNING 'table % has rows outside %: constraint % not added',
                        c.tbl, c.def, c.name;
            END;
        END IF;
    END LOOP;
END
$$;

-- At most one active session per operator and machine (two engines starting
-- the same operator's run cannot create two). Skipped with a warning when a
-- site already holds several active sessions for a pair. The status column is
-- `status` on fresh and e7d9f0a-era sites, `session_status` on HEAD-era sites.
DO $$
DECLARE
    col text;
BEGIN
    SELECT column_name INTO col FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = 'operator_sessions'
      AND column_name IN ('status', 'session_status')
    ORDER BY column_name = 'status' DESC LIMIT 1;
    IF col IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'operator_sessions_one_active')
    THEN
        BEGIN
            EXECUTE format('CREATE UNIQUE INDEX operator_sessions_one_active'
                           ' ON operator_sessions (operator_id, machine_id) WHERE %I = %L',
                           col, 'active');
        EXCEPTION WHEN unique_violation THEN
            RAISE WARNING 'operator_sessions holds several active sessions for one operator '
                          'and machine: index operator_sessions_one_active not created';
        END;
    END IF;
END
$$;

-- ---- idempotent samples on sites with duplicate history -------------------------------
-- NEW: replays of sample batches are idempotent on (parameter_id, "timestamp")
-- and (process_id, parameter_id, "timestamp"). Where the rows allow it, that is
-- a UNIQUE constraint (replays send on_conflict + ignore-duplicates). Sites
-- that ran the Python logger hold duplicate samples (it retried inserts), and
-- those rows are history: they are neither deleted nor changed. On such a
-- table the migration instead creates a plain index on the key and a BEFORE
-- INSERT trigger that skips a NEW row whose key is already present, with a
-- WARNING that counts the duplicate groups. The engine's replay meets no
-- unique key there (PostgreSQL answers 42P10 to on_conflict) and sends the
-- batch plainly; the trigger makes that idempotent. Each run tries the
-- constraint again, so a site that cleans its duplicates later gets the
-- constraint and loses the trigger.
CREATE OR REPLACE FUNCTION ald_skip_duplicate_history() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF EXISTS (SELECT 1 FROM parameter_value_history
               WHERE parameter_id = NEW.parameter_id AND "timestamp" = NEW."timestamp") THEN
        RETURN NULL; -- already there: a replay
    END IF;
    RETURN NEW;
END
$fn$;

CREATE OR REPLACE FUNCTION ald_skip_duplicate_data_point() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF EXISTS (SELECT 1 FROM process_data_points
               WHERE process_id = NEW.process_id AND parameter_id = NEW.parameter_id
                 AND "timestamp" = NEW."timestamp") THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$fn$;

DO $$
DECLARE
    c record;
    groups bigint;
BEGIN
    FOR c IN
        SELECT * FROM (VALUES
            ('parameter_value_history', 'parameter_value_history_parameter_timestamp_key',
             'parameter_id, "timestamp"', 'ald_skip_duplicate_history'),
            ('process_data_points', 'process_data_points_process_parameter_timestamp_key',
             'process_id, parameter_id, "timestamp"', 'ald_skip_duplicate_data_point')
        ) AS t (tbl, name, cols, fn)
    LOOP
        CONTINUE WHEN EXISTS (SELECT 1 FROM pg_constraint
                              WHERE conname = c.name AND conrelid = c.tbl::regclass);
        CONTINUE WHEN EXISTS ( -- a site-made unique index on exactly the key serves too
            SELECT 1 FROM pg_index i
            WHERE i.indrelid = c.tbl::regclass AND i.indisunique AND i.indpred IS NULL
              AND i.indexprs IS NULL
              AND (SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_attribute a
                   WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey))
                  = (SELECT array_agg(trim(both ' "' from x) ORDER BY trim(both ' "' from x))
                     FROM unnest(string_to_array(c.cols, ',')) AS x));
        BEGIN
            EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I UNIQUE (%s)',
                           c.tbl, c.name, c.cols);
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', c.fn, c.tbl);
        EXCEPTION WHEN unique_violation THEN
            EXECUTE format('SELECT count(*) FROM (SELECT 1 FROM %I GROUP BY %s'
                           ' HAVING count(*) > 1) g', c.tbl, c.cols) INTO groups;
            EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (%s)',
                           c.tbl || '_ald_sample_key', c.tbl, c.cols);
            IF NOT EXISTS (SELECT 1 FROM pg_trigger
                           WHERE tgname = c.fn AND tgrelid = c.tbl::regclass) THEN
                EXECUTE format('CREATE TRIGGER %I BEFORE INSERT ON %I'
                               ' FOR EACH ROW EXECUTE FUNCTION %I()', c.fn, c.tbl, c.fn);
            END IF;
            RAISE WARNING '% keeps % groups of duplicate samples (%): kept as they are; '
                          'new duplicates are skipped by trigger % instead of UNIQUE %',
                          c.tbl, groups, c.cols, c.fn, c.name;
        END;
    END LOOP;
END
$$;

-- ---- the parameter map view ------------------------------------------------------------
-- Created only when missing: an existing site's view keeps its definition
-- (CREATE OR REPLACE cannot rename or drop columns anyway). The engine reads
-- these column names: id, component_id, parameter_name, unit, component_name,
-- machine_id, data_type, min/max/current/set value, is_writable and the
-- read/write modbus address and type.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_views
                   WHERE schemaname = current_schema() AND viewname = 'component_parameters_full')
    THEN
        CREATE VIEW component_parameters_full AS
        SELECT cp.id, cp.component_id, d.name AS parameter_name, d.unit,
               mc.name AS component_name, mc.machine_id, cp.data_type, cp.min_value,
               cp.max_value, cp.current_value, cp.set_value, cp.is_writable,
               cp.read_modbus_address, cp.read_modbus_type, cp.write_modbus_address,
               cp.write_modbus_type, cp.updated_at
        FROM component_parameters cp
        JOIN machine_components mc ON mc.id = cp.component_id
        LEFT JOIN component_parameter_definitions d ON d.id = cp.definition_id;
    END IF;
END
$$;
