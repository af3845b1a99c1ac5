-- 0004_step_history.sql - step_execution_history, kept by the database as on sites.
--
-- The operator app lists a run's steps from step_execution_history
-- (id, step_number, step_name, step_type, started_at, ended_at). On sites the
-- Python system's SQL fills it with triggers: a change of the current step in
-- process_execution_state closes the open row and opens a new one, and the end
-- of a run closes the last. This file gives a project the same behaviour when
-- it has no such triggers (a fresh project, or a site where that SQL never
-- ran). A site that has them (trg_process_state_history,
-- trg_process_end_close_history) keeps its own and gets nothing here, so no
-- step is recorded twice.
--
-- Unlike an UPDATE-only trigger, this one also records the state row's first
-- INSERT, so the first step is never missed. Idempotent; changes no row.
-- Apply after 0003: psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f 0004_step_history.sql

CREATE OR REPLACE FUNCTION ald_step_history_on_state() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF NEW.current_step_type IS NULL THEN
        RETURN NEW; -- a state row before its first step
    END IF;
    IF TG_OP = 'UPDATE'
       AND NEW.current_step_index IS NOT DISTINCT FROM OLD.current_step_index
       AND NEW.current_overall_step IS NOT DISTINCT FROM OLD.current_overall_step
       AND NEW.current_step_type IS NOT DISTINCT FROM OLD.current_step_type
       AND NEW.current_step_name IS NOT DISTINCT FROM OLD.current_step_name THEN
        RETURN NEW; -- progress within the same step
    END IF;
    UPDATE step_execution_history SET ended_at = now()
    WHERE process_id = NEW.execution_id AND ended_at IS NULL;
    INSERT INTO step_execution_history (process_id, step_number, step_type, step_name,
                                        started_at, parameters)
    VALUES (NEW.execution_id, coalesce(NEW.current_overall_step, NEW.current_step_index, 0),
            NEW.current_step_type, NEW.current_step_name, now(),
            jsonb_strip_nulls(jsonb_build_object(
                'valve_number', NEW.current_valve_number,
                'valve_duration_ms', NEW.current_valve_duration_ms,
                'purge_duration_ms', NEW.current_purge_duration_ms,
                'parameter_id', NEW.current_parameter_id,
                'parameter_value', NEW.current_parameter_value,
                'loop_count', NEW.current_loop_count,
                'loop_iteration', NEW.current_loop_iteration)));
    RETURN NEW;
END
$fn$;

CREATE OR REPLACE FUNCTION ald_step_history_on_end() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF NEW.status::text IN ('completed', 'failed', 'aborted')
       AND OLD.status IS DISTINCT FROM NEW.status THEN
        UPDATE step_execution_history SET ended_at = coalesce(NEW.end_time, now())
        WHERE process_id = NEW.id AND ended_at IS NULL;
    END IF;
    RETURN NEW;
END
$fn$;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger
                   WHERE tgrelid = 'process_execution_state'::regclass
                     AND tgname IN ('trg_process_state_history', 'ald_step_history_on_state'))
    THEN
        CREATE TRIGGER ald_step_history_on_state
            AFTER INSERT OR UPDATE ON process_execution_state
            FOR EACH ROW EXECUTE FUNCTION ald_step_history_on_state();
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_trigger
                   WHERE tgrelid = 'process_executions'::regclass
                     AND tgname IN ('trg_process_end_close_history', 'ald_step_history_on_end'))
    THEN
        CREATE TRIGGER ald_step_history_on_end
            AFTER UPDATE OF status ON process_executions
            FOR EACH ROW EXECUTE FUNCTION ald_step_history_on_end();
    END IF;
END
$$;
