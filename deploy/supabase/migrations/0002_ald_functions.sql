-- 0002_ald_functions.sql - the RPC functions ald-engine calls through PostgREST
-- (POST /rest/v1/rpc/<name>). Each does in ONE request and ONE transaction what
-- would otherwise take several round trips or could race between two engines.
-- CREATE OR REPLACE keeps this file idempotent; signatures never change in
-- place (a new signature gets a new name).

-- current_value / set_value of many parameters, one request per logger cycle.
-- p_updates: [{"id": "<uuid>", "current_value": 1.5, "set_value": 2}, ...];
-- a key that is absent leaves that column unchanged. Returns the rows updated.
-- Ids compare as text so sites whose ids are text columns work unchanged.
CREATE OR REPLACE FUNCTION batch_update_parameter_values(p_updates jsonb)
RETURNS integer
LANGUAGE sql
AS $$
    WITH u AS (
        SELECT e->>'id' AS id, e ? 'current_value' AS has_cur,
               (e->>'current_value')::double precision AS cur,
               e ? 'set_value' AS has_set, (e->>'set_value')::double precision AS setv
        FROM jsonb_array_elements(coalesce(p_updates, '[]'::jsonb)) AS e
    ), done AS (
        UPDATE component_parameters cp
        SET current_value = CASE WHEN u.has_cur THEN u.cur ELSE cp.current_value END,
            set_value = CASE WHEN u.has_set THEN u.setv ELSE cp.set_value END,
            updated_at = now()
        FROM u
        WHERE cp.id::text = u.id
        RETURNING 1
    )
    SELECT count(*)::integer FROM done;
$$;

-- Take a free or expired lease, or renew our own, in one statement on the
-- DATABASE clock (two engines' clocks may disagree). Returns
-- {"acquired": bool, "holder": "<who holds it now>", "expires_at": "..."}.
CREATE OR REPLACE FUNCTION acquire_engine_lease(p_machine_id uuid, p_holder text,
                                                p_ttl_ms bigint)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    got engine_leases%ROWTYPE;
BEGIN
    IF p_ttl_ms IS NULL OR p_ttl_ms <= 0 THEN
        RAISE EXCEPTION 'acquire_engine_lease: p_ttl_ms must be positive (got %)', p_ttl_ms
            USING ERRCODE = '22023';
    END IF;
    INSERT INTO engine_leases AS l (machine_id, holder, expires_at)
    VALUES (p_machine_id, p_holder, now() + p_ttl_ms * interval '1 millisecond')
    ON CONFLICT (machine_id) DO UPDATE
        SET holder = excluded.holder, expires_at = excluded.expires_at
        WHERE l.holder = excluded.holder OR l.expires_at <= now()
    RETURNING * INTO got;
    IF FOUND THEN
        RETURN jsonb_build_object('acquired', true, 'holder', got.holder,
                                  'expires_at', got.expires_at);
    END IF;
    SELECT * INTO got FROM engine_leases WHERE machine_id = p_machine_id;
    RETURN jsonb_build_object('acquired', false, 'holder', got.holder,
                              'expires_at', got.expires_at);
END
$$;

-- machines.status/current_process_id (+ current_operator_id when given) and
-- its machine_state mirror, in one transaction. The mirror row is created
-- when missing (old sites); state_since moves only when the state changes.
-- Returns false when the machine does not exist.
CREATE OR REPLACE FUNCTION ald_set_machine_state(p_machine_id uuid, p_status text,
                                                 p_process_id uuid, p_operator_id uuid,
                                                 p_failure_description text)
RETURNS boolean
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE machines
    SET status = p_status, current_process_id = p_process_id,
        current_operator_id = coalesce(p_operator_id, current_operator_id), updated_at = now()
    WHERE id = p_machine_id;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE machine_state
    SET state_since = CASE WHEN current_state = p_status THEN state_since ELSE now() END,
        current_state = p_status, process_id = p_process_id,
        is_failure_mode = p_failure_description IS NOT NULL,
        failure_description = p_failure_description, updated_at = now()
    WHERE machine_id = p_machine_id;
    IF NOT FOUND THEN
        INSERT INTO machine_state (machine_id, current_state, state_since, process_id,
                                   is_failure_mode, failure_description, updated_at)
        VALUES (p_machine_id, p_status, now(), p_process_id, p_failure_description IS NOT NULL,
                p_failure_description, now());
    END IF;
    RETURN true;
END
$$;

-- Store a whole recipe (aldctl import) in one transaction: the recipes row
-- (replaced when the id exists), its steps with their *_step_config rows and
-- its recipe_parameters. p_steps elements:
--   {"id", "parent_step_id", "sequence_number", "name", "type", "parameters",
--    "valve": {"valve_number", "duration_ms", "valve_id"?}, "purge": {"duration_ms",
--    "gas_type", "flow_rate"}, "loop": {"iteration_count"}, "parameter":
--    {"parameter_id", "target_value", "hold_duration_ms"}}
-- p_parameters: [{"name", "value"}, ...]. Returns the recipe id.
--
-- Works on fresh projects and on sites: rows go through
-- jsonb_populate_recordset, so values take each site's column types (sites
-- keep recipe_parameters.parameter_value and target_value numeric), and
-- columns a site made NOT NULL are filled as the site's own tools did:
-- recipes.created_by and machine_type from the recipe, else from the machine
-- p_recipe.machine_id names (its admin_id and machine_type; the plugin sends
-- its machine); valve_step_config.valve_id from the step, else 'valve_<N>'
-- (no reader of it is known); purge flow_rate left to the column default
-- when not given. A value the site requires and nobody gave stops the import
-- with a message naming the column.
CREATE OR REPLACE FUNCTION ald_save_recipe(p_recipe jsonb, p_steps jsonb, p_parameters jsonb)
RETURNS uuid
LANGUAGE plpgsql
AS $$
DECLARE
    v_id uuid := coalesce((p_recipe->>'id')::uuid, gen_random_uuid());
    v_machine jsonb;
    v_recipe jsonb;
    v_steps jsonb := coalesce(p_steps, '[]'::jsonb);
    v_table text;
    v_column text;
BEGIN
    SELECT to_jsonb(m) INTO v_machine FROM machines m
    WHERE m.id = (p_recipe->>'machine_id')::uuid;
    v_recipe := p_recipe || jsonb_build_object(
        'id', v_id,
        'version', coalesce(nullif(p_recipe->'version', 'null'::jsonb), '1'::jsonb),
        'created_by', coalesce(nullif(p_recipe->'created_by', 'null'::jsonb),
                               v_machine->'admin_id'),
        'machine_type', coalesce(nullif(p_recipe->'machine_type', 'null'::jsonb),
                                 v_machine->'machine_type'));
    INSERT INTO recipes AS r (id, name, description, version, chamber_temperature_set_point,
                              pressure_set_point, created_by, machine_type)
    SELECT id, name, description, version, chamber_temperature_set_point, pressure_set_point,
           created_by, machine_type
    FROM jsonb_populate_record(NULL::recipes, v_recipe)
    ON CONFLICT (id) DO UPDATE
        SET name = excluded.name, description = excluded.description,
            version = excluded.version,
            chamber_temperature_set_point = excluded.chamber_temperature_set_point,
            pressure_set_point = excluded.pressure_set_point,
            created_by = coalesce(r.created_by, excluded.created_by),
            machine_type = coalesce(excluded.machine_type, r.machine_type),
            updated_at = now();

    DELETE FROM recipe_steps WHERE recipe_id = v_id; -- configs go by cascade
    DELETE FROM recipe_parameters WHERE recipe_id = v_id;

    INSERT INTO recipe_steps (id, recipe_id, parent_step_id, sequence_number, name, type,
                              parameters)
    SELECT coalesce(x.id, gen_random_uuid()), v_id, x.parent_step_id, x.sequence_number,
           x.name, x.type, nullif(x.parameters, 'null'::jsonb)
    FROM jsonb_populate_recordset(NULL::recipe_steps, v_steps) AS x;

    INSERT INTO valve_step_config (step_id, valve_id, valve_number, duration_ms)
    SELECT x.step_id, coalesce(x.valve_id, 'valve_' || x.valve_number), x.valve_number,
           x.duration_ms
    FROM jsonb_populate_recordset(NULL::valve_step_config, (
        SELECT coalesce(jsonb_agg(s->'valve' || jsonb_build_object('step_id', s->'id')), '[]')
        FROM jsonb_array_elements(v_steps) AS s
        WHERE jsonb_typeof(s->'valve') = 'object')) AS x;

    INSERT INTO purge_step_config (step_id, duration_ms, gas_type)
    SELECT x.step_id, x.duration_ms, coalesce(x.gas_type, 'N2')
    FROM jsonb_populate_recordset(NULL::purge_step_config, (
        SELECT coalesce(jsonb_agg(s->'purge' || jsonb_build_object('step_id', s->'id')), '[]')
        FROM jsonb_array_elements(v_steps) AS s
        WHERE jsonb_typeof(s->'purge') = 'object')) AS x;
    UPDATE purge_step_config c SET flow_rate = x.flow_rate -- only where given
    FROM jsonb_populate_recordset(NULL::purge_step_config, (
        SELECT coalesce(jsonb_agg(s->'purge' || jsonb_build_object('step_id', s->'id')), '[]')
        FROM jsonb_array_elements(v_steps) AS s
        WHERE jsonb_typeof(s->'purge'->'flow_rate') = 'number')) AS x
    WHERE c.step_id = x.step_id;

    INSERT INTO loop_step_config (step_id, iteration_count)
    SELECT x.step_id, x.iteration_count
    FROM jsonb_populate_recordset(NULL::loop_step_config, (
        SELECT coalesce(jsonb_agg(s->'loop' || jsonb_build_object('step_id', s->'id')), '[]')
        FROM jsonb_array_elements(v_steps) AS s
        WHERE jsonb_typeof(s->'loop') = 'object')) AS x;

    INSERT INTO parameter_step_config (step_id, parameter_id, target_value, hold_duration_ms)
    SELECT x.step_id, x.parameter_id, x.target_value, x.hold_duration_ms
    FROM jsonb_populate_recordset(NULL::parameter_step_config, (
        SELECT coalesce(jsonb_agg(s->'parameter' || jsonb_build_object('step_id', s->'id')),
                        '[]')
        FROM jsonb_array_elements(v_steps) AS s
        WHERE jsonb_typeof(s->'parameter') = 'object')) AS x;

    INSERT INTO recipe_parameters (recipe_id, parameter_name, parameter_value)
    SELECT v_id, x.parameter_name, x.parameter_value
    FROM jsonb_populate_recordset(NULL::recipe_parameters, (
        SELECT coalesce(jsonb_agg(jsonb_build_object('parameter_name', p->'name',
                                                     'parameter_value', p->'value')), '[]')
        FROM jsonb_array_elements(coalesce(p_parameters, '[]'::jsonb)) AS p)) AS x;

    RETURN v_id;
EXCEPTION WHEN not_null_violation THEN
    GET STACKED DIAGNOSTICS v_table = TABLE_NAME, v_column = COLUMN_NAME;
    RAISE EXCEPTION 'ald_save_recipe: %.% is required by this project (NOT NULL) and the '
                    'recipe gives none', v_table, v_column
        USING ERRCODE = 'not_null_violation',
              HINT = 'give it in the recipe (recipes.created_by and machine_type are also '
                     'taken from the machine''s admin_id and machine_type)';
END
$$;
