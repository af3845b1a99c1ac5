-- 0100_demo_seed.sql - OPTIONAL: the demo tool of docs/demo-tool.md (the
-- simulated machine plc-sim / ald-plcsim serve), with the same fixed ids the
-- SQLite store seeds. Apply it only to a demo or test project, never to a
-- production site. Idempotent: rows that exist are left alone.

INSERT INTO machines (id, name, machine_type, status)
VALUES ('e3e6e280-0000-4000-8000-000000000001', 'ALD Demo Tool', 'ald', 'idle')
ON CONFLICT (id) DO NOTHING;

INSERT INTO component_parameter_definitions (id, name, unit) VALUES
    ('d0000000-0000-4000-8000-000000000001', 'valve_state', NULL),
    ('d0000000-0000-4000-8000-000000000002', 'flow_rate', 'sccm'),
    ('d0000000-0000-4000-8000-000000000003', 'pressure', 'Torr'),
    ('d0000000-0000-4000-8000-000000000004', 'temperature', '°C'),
    ('d0000000-0000-4000-8000-000000000005', 'power', NULL),
    ('d0000000-0000-4000-8000-000000000006', 'running', NULL),
    ('d0000000-0000-4000-8000-000000000007', 'ready', NULL)
ON CONFLICT (id) DO NOTHING;

INSERT INTO machine_components (id, machine_id, name, type)
SELECT ('c0000000-0000-4000-8000-0000000000' || lpad(n::text, 2, '0'))::uuid,
       'e3e6e280-0000-4000-8000-000000000001', name, type
FROM (VALUES (1, 'Valve 1', 'valve'), (2, 'Valve 2', 'valve'), (3, 'Valve 3', 'valve'),
             (4, 'Valve 4', 'valve'), (5, 'Valve 5', 'valve'), (6, 'Valve 6', 'valve'),
             (7, 'MFC 1', 'mfc'), (8, 'MFC 2', 'mfc'),
             (9, 'Pressure Gauge 1', 'pressure_gauge'), (10, 'Pressure Gauge 2', 'pressure_gauge'),
             (11, 'Chamber Heater', 'heater'), (12, 'Line Heater', 'heater'),
             (13, 'Pump', 'pump'), (14, 'N2 Generator', 'gas_generator')) AS c (n, name, type)
ON CONFLICT (id) DO NOTHING;

-- (component, index within it, definition, data_type, read address/type,
--  write address/type, min, max, writable, initial set_value)
INSERT INTO component_parameters (id, component_id, definition_id, data_type, read_modbus_address,
                                  read_modbus_type, write_modbus_address, write_modbus_type,
                                  min_value, max_value, is_writable, set_value)
SELECT ('a0000000-0000-4000-8000-00000000' || lpad(c::text, 2, '0') || lpad(i::text, 2, '0'))::uuid,
       ('c0000000-0000-4000-8000-0000000000' || lpad(c::text, 2, '0'))::uuid,
       ('d0000000-0000-4000-8000-00000000000' || d)::uuid, dt, ra, rt, wa, wt, lo, hi,
       wa IS NOT NULL, sv
FROM (VALUES
    (1, 1, 1, 'binary', 0, 'coil', 0, 'coil', 0, 1, NULL::double precision),
    (2, 1, 1, 'binary', 1, 'coil', 1, 'coil', 0, 1, NULL),
    (3, 1, 1, 'binary', 2, 'coil', 2, 'coil', 0, 1, NULL),
    (4, 1, 1, 'binary', 3, 'coil', 3, 'coil', 0, 1, NULL),
    (5, 1, 1, 'binary', 4, 'coil', 4, 'coil', 0, 1, NULL),
    (6, 1, 1, 'binary', 5, 'coil', 5, 'coil', 0, 1, NULL),
    (7, 1, 2, 'float', 0, 'input_register', 0, 'holding_register', 0, 500, 100),
    (8, 1, 2, 'float', 2, 'input_register', 2, 'holding_register', 0, 500, 0),
    (9, 1, 3, 'float', 4, 'input_register', NULL, NULL, 0, 1000, NULL),
    (10, 1, 3, 'float', 6, 'input_register', NULL, NULL, 0, 1000, NULL),
    (11, 1, 4, 'float', 8, 'input_register', 4, 'holding_register', 20, 400, 150),
    (12, 1, 4, 'float', 10, 'input_register', 6, 'holding_register', 20, 200, 80),
    (13, 1, 5, 'binary', 10, 'coil', 10, 'coil', 0, 1, 1),
    (13, 2, 6, 'binary', 0, 'discrete_input', NULL, NULL, 0, 1, NULL),
    (14, 1, 5, 'binary', 11, 'coil', 11, 'coil', 0, 1, 1),
    (14, 2, 7, 'binary', 1, 'discrete_input', NULL, NULL, 0, 1, NULL)
) AS p (c, i, d, dt, ra, rt, wa, wt, lo, hi, sv)
ON CONFLICT (id) DO NOTHING;

-- The demo recipes (same ids and steps as the SQLite store seeds, see
-- docs/demo-tool.md): "Al2O3 demo" (100 cycles) and "Al2O3 quick" (5 cycles).
-- Each is a loop of: valve 1 20 ms, purge, valve 2 20 ms, purge.
INSERT INTO recipes (id, name, description, version)
VALUES ('b0000000-0000-4000-8000-000000000001', 'Al2O3 demo',
        'TMA/H2O, 100 cycles: 20 ms pulses, 2 s N2 purges', 1),
       ('b0000000-0000-4000-8000-000000000002', 'Al2O3 quick',
        'TMA/H2O, 5 cycles: 20 ms pulses, 200 ms N2 purges', 1)
ON CONFLICT (id) DO NOTHING;

INSERT INTO recipe_steps (id, recipe_id, parent_step_id, sequence_number, name, type)
SELECT s.id::uuid, s.recipe::uuid, s.parent::uuid, s.seq, s.name, s.type
FROM (VALUES
    ('b1000000-0000-4000-8000-000000000100', 'b0000000-0000-4000-8000-000000000001', NULL, 1, 'ALD cycle', 'loop'),
    ('b1000000-0000-4000-8000-000000000101', 'b0000000-0000-4000-8000-000000000001', 'b1000000-0000-4000-8000-000000000100', 1, 'TMA pulse', 'valve'),
    ('b1000000-0000-4000-8000-000000000102', 'b0000000-0000-4000-8000-000000000001', 'b1000000-0000-4000-8000-000000000100', 2, 'N2 purge', 'purge'),
    ('b1000000-0000-4000-8000-000000000103', 'b0000000-0000-4000-8000-000000000001', 'b1000000-0000-4000-8000-000000000100', 3, 'H2O pulse', 'valve'),
    ('b1000000-0000-4000-8000-000000000104', 'b0000000-0000-4000-8000-000000000001', 'b1000000-0000-4000-8000-000000000100', 4, 'N2 purge', 'purge'),
    ('b1000000-0000-4000-8000-000000000200', 'b0000000-0000-4000-8000-000000000002', NULL, 1, 'ALD cycle', 'loop'),
    ('b1000000-0000-4000-8000-000000000201', 'b0000000-0000-4000-8000-000000000002', 'b1000000-0000-4000-8000-000000000200', 1, 'TMA pulse', 'valve'),
    ('b1000000-0000-4000-8000-000000000202', 'b0000000-0000-4000-8000-000000000002', 'b1000000-0000-4000-8000-000000000200', 2, 'N2 purge', 'purge'),
    ('b1000000-0000-4000-8000-000000000203', 'b0000000-0000-4000-8000-000000000002', 'b1000000-0000-4000-8000-000000000200', 3, 'H2O pulse', 'valve'),
    ('b1000000-0000-4000-8000-000000000204', 'b0000000-0000-4000-8000-000000000002', 'b1000000-0000-4000-8000-000000000200', 4, 'N2 purge', 'purge')
) AS s (id, recipe, parent, seq, name, type)
ON CONFLICT (id) DO NOTHING;

INSERT INTO loop_step_config (step_id, iteration_count)
SELECT v.step::uuid, v.n FROM (VALUES
    ('b1000000-0000-4000-8000-000000000100', 100),
    ('b1000000-0000-4000-8000-000000000200', 5)
) AS v (step, n)
WHERE NOT EXISTS (SELECT 1 FROM loop_step_config l WHERE l.step_id = v.step::uuid);

INSERT INTO valve_step_config (step_id, valve_number, duration_ms)
SELECT v.step::uuid, v.valve, v.ms FROM (VALUES
    ('b1000000-0000-4000-8000-000000000101', 1, 20),
    ('b1000000-0000-4000-8000-000000000103', 2, 20),
    ('b1000000-0000-4000-8000-000000000201', 1, 20),
    ('b1000000-0000-4000-8000-000000000203', 2, 20)
) AS v (step, valve, ms)
WHERE NOT EXISTS (SELECT 1 FROM valve_step_config c WHERE c.step_id = v.step::uuid);

INSERT INTO purge_step_config (step_id, duration_ms, gas_type)
SELECT v.step::uuid, v.ms, 'N2' FROM (VALUES
    ('b1000000-0000-4000-8000-000000000102', 2000),
    ('b1000000-0000-4000-8000-000000000104', 2000),
    ('b1000000-0000-4000-8000-000000000202', 200),
    ('b1000000-0000-4000-8000-000000000204', 200)
) AS v (step, ms)
WHERE NOT EXISTS (SELECT 1 FROM purge_step_config c WHERE c.step_id = v.step::uuid);
