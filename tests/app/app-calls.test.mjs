// app-calls.test.mjs - the operator app (recipe-monitor-app in the Python system's
// repository) against our schema, through the PostgREST fixture, with the real
// @supabase/supabase-js; and the engine running the app's start command.
//
// Three databases on one PostgreSQL cluster (tests/fixtures/postgrest/pg.sh sites):
//   fresh      our migrations on an empty database
//   site_e7    a site as the e7d9f0a dump describes it (+ site rows, then our migrations)
//   site_head  the same for the HEAD dump (operator_sessions renamed columns)
// Every call below is copied from the app's source (hooks/use-dashboard-data.ts,
// hooks/use-recipe-actions.ts, hooks/use-terminal-status.ts,
// hooks/use-realtime-subscriptions.ts); docs/supabase.md lists them.
//
// Run by tests/app/app-calls.test (make check) with ALD_TOP_SRCDIR and
// ALD_TOP_BUILDDIR set; node's TAP reporter feeds automake's TAP driver.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, chmodSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { createClient } from '@supabase/supabase-js';
import ws from 'ws'; // Node 20 has no WebSocket; supabase-js's realtime client needs one

const SRC = process.env.ALD_TOP_SRCDIR;
const BUILD = process.env.ALD_TOP_BUILDDIR;
assert.ok(SRC && BUILD, 'run through make check (ALD_TOP_SRCDIR, ALD_TOP_BUILDDIR)');
const PG = path.join(SRC, 'tests/fixtures/postgrest/pg.sh');
// JWT-shaped, as a Supabase service_role key is: the plugin then also sends
// it as a Bearer token, and supabase-js always does.
const KEY = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.ald-fixture';
const MACHINE = '51730000-0000-4000-8000-000000000001';
const RECIPE = '51730000-0000-4000-8000-000000000031';
const OPERATOR = '51730000-0000-4000-8000-0000000000a1';
const DATABASES = ['fresh', 'site_e7', 'site_head'];

let work;
const env = {};

function sql(db, query) {
  return execFileSync('psql', [env[db].dsn, '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1',
                               '-c', query], { encoding: 'utf8' }).trim();
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, fn, secs = 30) {
  let last;
  for (let i = 0; i < secs * 5; i++) {
    last = await fn();
    if (last) return last;
    await sleep(200);
  }
  assert.fail(`timed out waiting for ${what}`);
}

// The fresh database holds no site rows: load the same machine and recipe.
function seedFresh() {
  execFileSync('psql', [env.fresh.dsn, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f',
                        path.join(SRC, 'tests/fixtures/postgrest/site-rows.sql')],
               { encoding: 'utf8', env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' } });
}

before(() => {
  work = mkdtempSync(path.join(tmpdir(), 'ald-app-'));
  chmodSync(work, 0o755); // the cluster runs as postgres
  execFileSync('sh', [PG, 'sites', path.join(work, 'pg')],
               { stdio: ['ignore', 'inherit', 'inherit'],
                 env: { ...process.env, ALD_FIXTURE_KEY: KEY } });
  const text = readFileSync(path.join(work, 'pg/env'), 'utf8');
  for (const db of [...DATABASES, 'site_bare']) {
    const up = db.toUpperCase();
    env[db] = {
      dsn: text.match(new RegExp(`^${up}_DSN='(.*)'$`, 'm'))[1],
      url: text.match(new RegExp(`^${up}_URL=(.*)$`, 'm'))[1],
    };
  }
  seedFresh();
});

after(() => {
  if (!work) return;
  execFileSync('sh', [PG, 'stop', path.join(work, 'pg')], { stdio: 'ignore' });
  if (!process.env.ALD_KEEP_WORK) rmSync(work, { recursive: true, force: true });
});

// ---- the schema: a superset of the dumps --------------------------------------------

function dumpColumns(file) {
  const out = execFileSync('/usr/bin/env', ['python3',
    path.join(SRC, 'tests/fixtures/postgrest/site_schema.py'), 'columns',
    path.join(SRC, 'tests/fixtures/postgrest/site-dumps', file)], { encoding: 'utf8' });
  return out.trim().split('\n').map((l) => l.split('\t'));
}

const RENAMED = new Set(['operator_sessions.status', 'operator_sessions.start_time',
  'operator_sessions.end_time', 'operator_sessions.session_status',
  'operator_sessions.session_start_time', 'operator_sessions.session_end_time']);

function dbColumns(db) {
  const rows = sql(db, `SELECT table_name || '.' || column_name FROM information_schema.columns
                        WHERE table_schema = 'public'`);
  return new Set(rows.split('\n'));
}

const ENUMS = new Set(['data_type', 'modbus_type', 'process_status']);

// Columns of a migrated database whose type or NOT NULL differs from the dump
// (first dump that has the column wins). Enum types of the dumps are text here.
function deviations(db) {
  const dump = new Map();
  for (const file of ['openapi-e7d9f0a.json', 'openapi-head.json']) {
    for (const [table, col, type, notnull] of dumpColumns(file)) {
      const name = `${table}.${col}`;
      if (!dump.has(name) && table !== 'component_parameters_full') dump.set(name, [type, notnull]);
    }
  }
  const rows = sql(db, `SELECT c.relname || '.' || a.attname, format_type(a.atttypid, a.atttypmod),
                               a.attnotnull
                        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                        JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0
                          AND NOT a.attisdropped ORDER BY 1`).split('\n');
  const out = [];
  for (const row of rows) {
    const [name, type, notnull] = row.split('|');
    if (!dump.has(name)) continue;
    const [dtype, dnotnull] = dump.get(name);
    if (dtype !== type && !(ENUMS.has(dtype) && type === 'text')) out.push(`${name}: type ${type}, dump ${dtype}`);
    if (dnotnull !== notnull) out.push(`${name}: ${notnull === 't' ? 'NOT NULL' : 'nullable'}, dump ${dnotnull === 't' ? 'NOT NULL' : 'nullable'}`);
  }
  return out;
}

// docs/supabase.md, "Fresh install": every entry has its reason there.
const FRESH_DEVIATIONS = [
  // types 0001 chose before the dumps were known; JSON clients read numbers either way
  'component_parameters.current_value: nullable, dump NOT NULL',
  'component_parameters.data_type: NOT NULL, dump nullable',
  'component_parameters.max_value: nullable, dump NOT NULL',
  'component_parameters.min_value: nullable, dump NOT NULL',
  'component_parameter_definitions.component_definition_id: nullable, dump NOT NULL',
  'machine_components.definition_id: nullable, dump NOT NULL',
  'machine_health.plc_connected: NOT NULL, dump nullable',
  'machine_health.plc_reconnect_attempts: NOT NULL, dump nullable',
  'machine_health.updated_at: NOT NULL, dump nullable',
  'machines.admin_id: nullable, dump NOT NULL',
  'machines.install_date: nullable, dump NOT NULL',
  'machines.lab_institution: nullable, dump NOT NULL',
  'machines.lab_name: nullable, dump NOT NULL',
  'machines.last_maintenance_date: nullable, dump NOT NULL',
  'machines.location: nullable, dump NOT NULL',
  'machines.machine_type: nullable, dump NOT NULL',
  'machines.model: nullable, dump NOT NULL',
  'machines.serial_number: nullable, dump NOT NULL',
  'machine_state.current_state: type text, dump character varying(50)',
  'parameter_control_commands.parameter_name: nullable, dump NOT NULL',
  'parameter_control_commands.target_value: type double precision, dump numeric',
  'parameter_step_config.target_value: type double precision, dump numeric',
  'parameter_value_history.id: type bigint, dump uuid',
  'parameter_value_history.value: nullable, dump NOT NULL',
  'process_data_points.id: type bigint, dump uuid',
  'process_data_points.value: nullable, dump NOT NULL',
  'process_execution_state.current_parameter_value: type double precision, dump numeric',
  'process_execution_state.last_updated: NOT NULL, dump nullable',
  'process_executions.operator_id: nullable, dump NOT NULL',
  'process_executions.parameters: nullable, dump NOT NULL',
  'process_executions.recipe_version: nullable, dump NOT NULL',
  'process_executions.session_id: nullable, dump NOT NULL',
  'purge_step_config.flow_rate: type double precision, dump numeric',
  'purge_step_config.flow_rate: nullable, dump NOT NULL',
  'recipe_commands.created_at: NOT NULL, dump nullable',
  'recipe_commands.status: type text, dump character varying(20)',
  'recipe_commands.type: type text, dump character varying(50)',
  'recipe_commands.updated_at: NOT NULL, dump nullable',
  'recipe_parameters.created_at: NOT NULL, dump nullable',
  'recipe_parameters.parameter_value: type text, dump numeric',
  'recipe_parameters.parameter_value: nullable, dump NOT NULL',
  'recipes.chamber_temperature_set_point: nullable, dump NOT NULL',
  'recipes.created_by: nullable, dump NOT NULL',
  'recipes.machine_type: nullable, dump NOT NULL',
  'recipes.pressure_set_point: nullable, dump NOT NULL',
  'valve_step_config.valve_id: nullable, dump NOT NULL',
];

for (const db of DATABASES) {
  describe(`${db}: schema`, () => {
    test('every table, view and column of both dumps exists', () => {
      const have = dbColumns(db);
      const missing = [];
      for (const file of ['openapi-e7d9f0a.json', 'openapi-head.json']) {
        for (const [table, col] of dumpColumns(file)) {
          const name = `${table}.${col}`;
          if (!have.has(name) && !RENAMED.has(name)) missing.push(name);
        }
      }
      assert.deepEqual([...new Set(missing)], []);
    });

    if (db === 'fresh') {
      test('types and nullability differ from the dumps only where documented', () => {
        assert.deepEqual(deviations(db).sort(), [...FRESH_DEVIATIONS].sort());
      });
    }

    test('operator_sessions has one era\'s names, complete', () => {
      const have = dbColumns(db);
      const e7 = ['status', 'start_time'].every((c) => have.has(`operator_sessions.${c}`));
      const head = ['session_status', 'session_start_time']
        .every((c) => have.has(`operator_sessions.${c}`));
      assert.ok(db === 'site_head' ? head && !e7 : e7 && !head, `e7=${e7} head=${head}`);
    });

    if (db !== 'fresh') {
      test('the migrations kept every site row unchanged, and a second run too', () => {
        const before = readFileSync(path.join(work, `pg/digest-before-${db}`), 'utf8');
        const afterOnce = readFileSync(path.join(work, `pg/digest-after-${db}`), 'utf8');
        const afterTwice = readFileSync(path.join(work, `pg/digest-again-${db}`), 'utf8');
        assert.ok(before.split('\n').length > 20, 'digest covers the site tables');
        assert.equal(afterOnce, before);
        assert.equal(afterTwice, before);
      });

      test('duplicate history is kept and reported; new duplicates are skipped', () => {
        const log = readFileSync(path.join(work, `pg/migrate-${db}.log`), 'utf8');
        assert.match(log, /parameter_value_history keeps 4 groups of duplicate samples/);
        assert.match(log, /process_data_points keeps 5 groups of duplicate samples/);
        const dupes = `SELECT count(*) FROM (SELECT 1 FROM parameter_value_history
                       GROUP BY parameter_id, "timestamp" HAVING count(*) > 1) g`;
        assert.equal(sql(db, dupes), '4');
        const row = `('51730000-0000-4000-8000-000000000023', 1, 1, '2031-01-01 00:00:00+00')`;
        sql(db, `INSERT INTO parameter_value_history (parameter_id, value, set_point, "timestamp")
                 VALUES ${row}, ${row}`);
        sql(db, `INSERT INTO parameter_value_history (parameter_id, value, set_point, "timestamp")
                 VALUES ${row}`);
        assert.equal(sql(db, `SELECT count(*) FROM parameter_value_history
                              WHERE "timestamp" = '2031-01-01 00:00:00+00'`), '1');
        assert.equal(sql(db, dupes), '4');
      });
    }
  });
}

// ---- the app's calls -------------------------------------------------------------------

function client(db) {
  return createClient(env[db].url, KEY, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: ws },
  });
}

// hooks/use-dashboard-data.ts: loadActiveProcess
async function loadActiveProcess(supabase) {
  const { data, error } = await supabase.from('process_executions')
    .select(`
      id,
      recipe_id,
      status,
      start_time,
      end_time,
      recipes(name)
    `)
    .eq('machine_id', MACHINE).eq('status', 'running')
    .order('start_time', { ascending: false }).limit(1).maybeSingle();
  assert.equal(error, null, JSON.stringify(error));
  return data;
}

for (const db of DATABASES) {
  describe(`${db}: the app's reads`, () => {
    test('loadRecipes: recipes id, name ordered by name', async () => {
      const { data, error } = await client(db).from('recipes').select('id, name')
        .order('name', { ascending: true });
      assert.equal(error, null, JSON.stringify(error));
      assert.ok(data.some((r) => r.id === RECIPE && r.name === 'Site Al2O3'));
    });

    test('loadActiveProcess: process_executions embedding recipes(name), maybeSingle', async () => {
      assert.equal(await loadActiveProcess(client(db)), null); // nothing running yet
    });

    test('loadRecipeSteps: recipe_steps with description, by sequence_number', async () => {
      const { data, error } = await client(db).from('recipe_steps')
        .select('id, recipe_id, sequence_number, name, description, type, parent_step_id, created_at')
        .eq('recipe_id', RECIPE).order('sequence_number', { ascending: true });
      assert.equal(error, null, JSON.stringify(error));
      assert.equal(data.length, 4);
      assert.ok(data.some((s) => s.description === 'three cycles'));
    });

    test('loadComponents: component_parameters_full with component_type, in()', async () => {
      const { data, error } = await client(db).from('component_parameters_full')
        .select('id, component_name, component_type, current_value, set_value, updated_at')
        .eq('machine_id', MACHINE).in('component_type', ['valve', 'mfc', 'chamber_heater']);
      assert.equal(error, null, JSON.stringify(error));
      assert.deepEqual(data.map((r) => r.component_type).sort(),
                       ['chamber_heater', 'mfc', 'valve', 'valve']);
    });

    test('loadStepHistory: step_execution_history by started_at desc, limit 20', async () => {
      const { data, error } = await client(db).from('step_execution_history')
        .select('id, step_number, step_name, step_type, started_at, ended_at')
        .eq('process_id', '51730000-0000-4000-8000-000000000042')
        .order('started_at', { ascending: false }).limit(20);
      assert.equal(error, null, JSON.stringify(error));
      assert.ok(Array.isArray(data));
    });

    test('process_execution_state current_step_index, maybeSingle', async () => {
      const { data, error } = await client(db).from('process_execution_state')
        .select('current_step_index')
        .eq('execution_id', '51730000-0000-4000-8000-000000000042').maybeSingle();
      assert.equal(error, null, JSON.stringify(error));
      assert.equal(data, null);
    });

    test('fixture: HEAD with count=exact, aliases, cs', async () => {
      const supabase = client(db);
      const { count, error } = await supabase.from('parameter_value_history')
        .select('*', { count: 'exact', head: true }).lt('timestamp', '2030-01-01');
      assert.equal(error, null, JSON.stringify(error));
      assert.equal(count, db === 'fresh' ? 20 : 24); // fresh: no duplicates
      const aliased = await supabase.from('recipes').select('recipe:name, v:version')
        .eq('id', RECIPE).single();
      assert.equal(aliased.error, null, JSON.stringify(aliased.error));
      assert.deepEqual(aliased.data, { recipe: 'Site Al2O3', v: 2 });
      const cs = await supabase.from('process_executions').select('id')
        .contains('parameters', { chamber_temperature: 150 });
      assert.equal(cs.error, null, JSON.stringify(cs.error));
      assert.deepEqual(cs.data.map((r) => r.id), ['51730000-0000-4000-8000-000000000042']);
    });

    // hooks/use-terminal-status.ts reads active_terminals, a view of the Python
    // system's supabase/migrations that neither dump has (it needs a table,
    // machines_base, no site schema has): the app's terminal panel gets 404
    // on sites today, and so here. Asserted so a change is noticed.
    test('active_terminals is absent, as on the dumped sites (documented)', async () => {
      const { error } = await client(db).from('active_terminals').select('*')
        .eq('machine_id', MACHINE).in('status', ['starting', 'healthy', 'degraded'])
        .order('terminal_type', { ascending: true });
      assert.equal(error?.code, 'PGRST205');
    });
  });
}

// ---- step_execution_history, as the database keeps it ------------------------------------

for (const db of DATABASES) {
  test(`${db}: step_execution_history records every state change from the first, closed at the end`, () => {
    const p = '51730000-0000-4000-8000-0000000000e1';
    sql(db, `INSERT INTO process_executions (id, session_id, machine_id, recipe_id, recipe_version,
               start_time, operator_id, status, parameters)
             VALUES ('${p}', '51730000-0000-4000-8000-000000000041', '${MACHINE}', '${RECIPE}',
                     '{}', now(), '${OPERATOR}', 'running', '{}')`);
    // as the plugin does: a state row at start (no step yet), then one upsert per step
    const upsert = (fields) => sql(db, `INSERT INTO process_execution_state (execution_id, ${Object.keys(fields)})
      VALUES ('${p}', ${Object.values(fields).map((v) => `'${v}'`)})
      ON CONFLICT (execution_id) DO UPDATE SET ${Object.keys(fields).map((k) => `${k} = EXCLUDED.${k}`)}`);
    upsert({ current_step_index: 0, current_overall_step: 0 });
    upsert({ current_overall_step: 1, current_step_type: 'valve', current_step_name: 'A' });
    upsert({ current_overall_step: 1, current_step_type: 'valve', current_step_name: 'A' }); // same step
    upsert({ current_overall_step: 2, current_step_type: 'purge', current_step_name: 'B' });
    sql(db, `UPDATE process_executions SET status = 'completed', end_time = now() WHERE id = '${p}'`);
    const rows = sql(db, `SELECT step_number || ':' || step_name || ':' || (ended_at IS NOT NULL)
                          FROM step_execution_history WHERE process_id = '${p}'
                          ORDER BY step_number`).split('\n');
    assert.deepEqual(rows, ['1:A:true', '2:B:true']);
  });
}

// ---- aldctl export / import (rpc/ald_save_recipe) on each schema ----------------------------

function aldctl(db, args, input) {
  return execFileSync(path.join(BUILD, 'aldctl'), ['--config', path.join(SRC, 'conf.d'), ...args], {
    encoding: 'utf8', input,
    env: { ...process.env, SUPABASE_URL: env[db].url, SUPABASE_KEY: KEY, MACHINE_ID: MACHINE,
           ALD_DATA_DIR: path.join(work, `aldctl-${db}`) },
  });
}

for (const db of DATABASES) {
  test(`${db}: aldctl export then import round-trips the site's recipe`, () => {
    const doc = aldctl(db, ['export', RECIPE]);
    const id = aldctl(db, ['import', '-'], doc).trim();
    assert.match(id, /^[0-9a-f-]{36}$/);
    const row = JSON.parse(sql(db, `SELECT row_to_json(r) FROM recipes r WHERE id = '${id}'`));
    assert.equal(row.name, 'Site Al2O3');
    // sites keep these NOT NULL; nothing in the document gives them: the machine's
    assert.equal(row.created_by, '51730000-0000-4000-8000-0000000000a1');
    assert.equal(row.machine_type, 'thermal_ald');
    assert.equal(sql(db, `SELECT count(*) FROM recipe_steps WHERE recipe_id = '${id}'`), '4');
    assert.equal(sql(db, `SELECT parameter_value::numeric FROM recipe_parameters
                          WHERE recipe_id = '${id}'`), '150');
    assert.equal(aldctl(db, ['export', id]), doc, 'export of the import equals the export');
  });
}

// ---- the app's writes and the engine reacting -----------------------------------------

function startEngine(db) {
  return freePort().then((port) => {
    const data = path.join(work, `data-${db}`);
    const log = path.join(work, `engine-${db}.log`);
    const child = spawn(path.join(BUILD, 'ald-engine'),
      ['--config', path.join(SRC, 'conf.d'), '--http-port', String(port)], {
        env: { ...process.env, SUPABASE_URL: env[db].url, SUPABASE_KEY: KEY, MACHINE_ID: MACHINE,
               PLC_TYPE: 'simulation', ALD_DATA_DIR: data, LOG_LEVEL: 'info' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    let text = '';
    child.stderr.on('data', (d) => { text += d; });
    child.log = () => text;
    child.port = port;
    return child;
  });
}

async function stopEngine(child) {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.on('exit', r));
  child.kill('SIGTERM');
  await done;
}

// hooks/use-recipe-actions.ts: the command objects, as the app builds them
function command(type, recipeId) {
  return { recipe_step_id: null, machine_id: MACHINE, type, status: 'pending',
           parameters: { recipe_id: recipeId } };
}

for (const db of DATABASES) {
  describe(`${db}: the app's commands, run by the engine`, () => {
    let engine;
    before(async () => { engine = await startEngine(db); });
    after(async () => {
      if (engine) await stopEngine(engine);
      if (process.env.ALD_KEEP_WORK) console.log(engine.log());
    });

    test('startRecipe: insert().select() is accepted and the run completes', async () => {
      // a site's operator: the app sends no operator_id; Python took the
      // machine's current operator
      sql(db, `UPDATE machines SET current_operator_id = '${OPERATOR}' WHERE id = '${MACHINE}'`);
      const supabase = client(db);
      const { data, error } = await supabase.from('recipe_commands')
        .insert(command('start_recipe', RECIPE)).select();
      assert.equal(error, null, JSON.stringify(error));
      const id = data[0].id;
      const done = await waitFor('the start command to finish', async () => {
        const r = await supabase.from('recipe_commands').select('status, error_message, executed_at')
          .eq('id', id).single();
        return ['completed', 'error'].includes(r.data?.status) ? r.data : null;
      }, 60);
      assert.equal(done.status, 'completed', `${done.error_message}\n${engine.log()}`);
      const run = await waitFor('the process to end', async () => {
        const r = await supabase.from('process_executions')
          .select('id, status, end_time, recipes(name)').eq('machine_id', MACHINE)
          .eq('recipe_id', RECIPE).neq('id', '51730000-0000-4000-8000-000000000042')
          .order('start_time', { ascending: false }).limit(1).maybeSingle();
        return r.data && r.data.end_time ? r.data : null;
      }, 60);
      assert.equal(run.status, 'completed');
      assert.deepEqual(run.recipes, { name: 'Site Al2O3' });
    });

    test('Python shapes: executed_at, session, parameters, recipe_version', async () => {
      const cmd = JSON.parse(sql(db, `SELECT row_to_json(c) FROM recipe_commands c
                                      WHERE type = 'start_recipe' ORDER BY created_at DESC LIMIT 1`));
      assert.equal(cmd.status, 'completed');
      assert.ok(cmd.executed_at, 'executed_at is set when a command completes');
      const run = JSON.parse(sql(db, `SELECT row_to_json(p) FROM process_executions p
                                      WHERE machine_id = '${MACHINE}'
                                        AND id <> '51730000-0000-4000-8000-000000000042'
                                      ORDER BY start_time DESC LIMIT 1`));
      assert.deepEqual(run.parameters, { chamber_temperature: 150 });
      const v = run.recipe_version;
      assert.equal(v.id, RECIPE);
      assert.equal(v.name, 'Site Al2O3');
      assert.equal(v.version, 2);
      assert.equal(v.chamber_temperature_set_point, 150);
      assert.deepEqual(v.parameters, { chamber_temperature: 150 });
      assert.deepEqual(v.steps.map((x) => [x.sequence_number, x.name]),
                       [[1, 'Set flow'], [1, 'TMA pulse'], [2, 'ALD cycle'], [2, 'Purge']]);
      assert.equal(run.operator_id, OPERATOR);
      const status = db === 'site_head' ? 'session_status' : 'status';
      assert.equal(sql(db, `SELECT count(*) FROM operator_sessions WHERE id = '${run.session_id}'
                            AND operator_id = '${OPERATOR}' AND ${status} = 'active'`), '1');
    });

    test('step_execution_history: the app sees every step from the first, all closed', async () => {
      const run = sql(db, `SELECT id FROM process_executions WHERE machine_id = '${MACHINE}'
                           AND id <> '51730000-0000-4000-8000-000000000042'
                           ORDER BY start_time DESC LIMIT 1`);
      // hooks/use-dashboard-data.ts: loadStepHistory
      const { data, error } = await client(db).from('step_execution_history')
        .select('id, step_number, step_name, step_type, started_at, ended_at')
        .eq('process_id', run).order('started_at', { ascending: false }).limit(20);
      assert.equal(error, null, JSON.stringify(error));
      // rows that start in the same millisecond tie on started_at: order by step_number
      const rows = data.sort((a, b) => a.step_number - b.step_number || a.started_at.localeCompare(b.started_at));
      const names = rows.map((h) => `${h.step_type}:${h.step_name}`);
      // As the Python system recorded it: every step in order (the engine queues
      // each transition, none is overtaken), a row for the loop at each
      // iteration (src/step_flow/loop_step.py), no state before the first step.
      assert.deepEqual(names, ['set parameter:Set flow',
        'loop:ALD cycle', 'valve:TMA pulse', 'purge:Purge',
        'loop:ALD cycle', 'valve:TMA pulse', 'purge:Purge',
        'loop:ALD cycle', 'valve:TMA pulse', 'purge:Purge',
        'completed:Recipe Completed'], JSON.stringify(rows));
      assert.ok(data.every((h) => h.ended_at), 'the end of the run closes every row');
    });

    test('process_execution_state at the end: the fields as Python wrote them', async () => {
      const run = sql(db, `SELECT id FROM process_executions WHERE machine_id = '${MACHINE}'
                           AND id <> '51730000-0000-4000-8000-000000000042'
                           ORDER BY start_time DESC LIMIT 1`);
      const { data, error } = await client(db).from('process_execution_state')
        .select('current_step_index, current_step_type, current_step_name, total_overall_steps, '
                + 'current_loop_count, current_loop_iteration, progress')
        .eq('execution_id', run).maybeSingle();
      assert.equal(error, null, JSON.stringify(error));
      // executor.py: the index of the last top-level step (the loop), complete_recipe's
      // marker; totals of a one-level loop: 1 step + 2 children x 3 = 7, 3 cycles
      assert.equal(data.current_step_index, 1);
      assert.equal(data.current_step_type, 'completed');
      assert.equal(data.current_step_name, 'Recipe Completed');
      assert.equal(data.total_overall_steps, 7);
      assert.deepEqual(data.progress, { total_steps: 7, completed_steps: 7, total_cycles: 3,
                                        completed_cycles: 3 });
      const p = JSON.parse(sql(db, `SELECT row_to_json(p) FROM process_executions p
                                    WHERE id = '${run}'`));
      assert.equal(p.status, 'completed');
      assert.ok(p.end_time, 'complete_recipe sets end_time');
      assert.equal(sql(db, `SELECT status FROM machines WHERE id = '${MACHINE}'`), 'idle');
    });

    test('a failed run: Python\'s marker and machine error; the app\'s next start clears it and runs', async () => {
      // a recipe that fails at run time: a wait that cannot be met in 300 ms
      const site = JSON.parse(aldctl(db, ['export', RECIPE]));
      const pid = site.steps.find((x) => x.type === 'set parameter').parameter_id;
      const failing = aldctl(db, ['import', '-'], JSON.stringify({ name: 'Never there',
        // sites keep these NOT NULL
        chamber_temperature_set_point: site.chamber_temperature_set_point ?? 150,
        pressure_set_point: site.pressure_set_point ?? 1, steps: [
        { type: 'wait', name: 'wait for it', parameter_id: pid, operator: '>=', value: 1e9,
          timeout_ms: 300 }] })).trim();
      const supabase = client(db);
      const finished = (id) => waitFor('the start command to finish', async () => {
        const r = await supabase.from('recipe_commands').select('status, error_message')
          .eq('id', id).single();
        return ['completed', 'error'].includes(r.data?.status) ? r.data : null;
      }, 60);
      const bad = await supabase.from('recipe_commands').insert(command('start_recipe', failing)).select();
      assert.equal(bad.error, null, JSON.stringify(bad.error));
      const failed = await finished(bad.data[0].id);
      assert.equal(failed.status, 'error');
      const run = JSON.parse(sql(db, `SELECT row_to_json(p) FROM process_executions p
                                      WHERE recipe_id = '${failing}'`));
      assert.equal(run.status, 'failed');
      assert.match(run.error_message, /wait for it/);
      const state = JSON.parse(sql(db, `SELECT row_to_json(s) FROM process_execution_state s
                                        WHERE execution_id = '${run.id}'`));
      assert.equal(state.current_step_type, 'error'); // executor.py handle_recipe_error
      assert.match(state.current_step_name, /^Error: step 'wait for it'/);
      assert.ok(state.current_step_name.length <= 'Error: '.length + 100);
      assert.equal(sql(db, `SELECT status FROM machines WHERE id = '${MACHINE}'`), 'error');
      // simple_recipe_service.py started over an error; the app cannot send clear_error
      const again = await supabase.from('recipe_commands').insert(command('start_recipe', RECIPE)).select();
      assert.equal(again.error, null, JSON.stringify(again.error));
      const done = await finished(again.data[0].id);
      assert.equal(done.status, 'completed', `${done.error_message}\n${engine.log()}`);
      await waitFor('the machine idle again', () =>
        sql(db, `SELECT status FROM machines WHERE id = '${MACHINE}'`) === 'idle' ? 1 : null, 30);
    });

    test('a setpoint with machine_id NULL is taken; its failure sets completed_at', async () => {
      const id = sql(db, `INSERT INTO parameter_control_commands (parameter_name, target_value,
                            machine_id) VALUES ('no_such_parameter', 1, NULL) RETURNING id`)
        .split('\n')[0];
      const row = await waitFor('the setpoint command to finish', () => {
        const r = JSON.parse(sql(db, `SELECT row_to_json(c) FROM parameter_control_commands c
                                      WHERE id = '${id}'`));
        return r.completed_at ? r : null;
      }, 20);
      assert.ok(row.executed_at);
      assert.ok(row.error_message, 'a failure says why');
    });

    if (db !== 'fresh') { // sites keep process_executions.session_id/operator_id NOT NULL
      test('a start without any operator ends error as Python said it', async () => {
        sql(db, `UPDATE machines SET current_operator_id = NULL WHERE id = '${MACHINE}'`);
        const { data, error } = await client(db).from('recipe_commands')
          .insert(command('start_recipe', RECIPE)).select();
        assert.equal(error, null, JSON.stringify(error));
        const done = await waitFor('the command to finish', () => {
          const r = JSON.parse(sql(db, `SELECT row_to_json(c) FROM recipe_commands c
                                        WHERE id = '${data[0].id}'`));
          return ['completed', 'error'].includes(r.status) ? r : null;
        }, 30);
        sql(db, `UPDATE machines SET current_operator_id = '${OPERATOR}' WHERE id = '${MACHINE}'`);
        assert.equal(done.status, 'error');
        assert.match(done.error_message, /No operator specified for recipe execution/);
      });
    }

    test('pauseRecipe and stopRecipe: inserts are accepted', async () => {
      const supabase = client(db);
      for (const type of ['pause', 'stop_recipe']) {
        const { error } = await supabase.from('recipe_commands').insert(command(type, RECIPE));
        assert.equal(error, null, JSON.stringify(error));
      }
    });
  });
}

// ---- ald-engine --doctor: the live check of a project ------------------------------------

function doctor(db) {
  return spawnSync(path.join(BUILD, 'ald-engine'), ['--config', path.join(SRC, 'conf.d'), '--doctor'], {
    encoding: 'utf8',
    env: { ...process.env, SUPABASE_URL: env[db].url, SUPABASE_KEY: KEY, MACHINE_ID: MACHINE,
           PLC_TYPE: 'simulation', ALD_DATA_DIR: path.join(work, `doctor-${db}`), LOG_LEVEL: 'warning' },
  });
}

for (const db of DATABASES) {
  test(`${db}: ald-engine --doctor finds the migrated project healthy`, () => {
    const r = doctor(db);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`machine ${MACHINE}: status \\w+`));
    assert.match(r.stdout, /parameter map: [1-9]\d* parameter\(s\)/);
    assert.match(r.stdout, /^doctor: OK$/m);
  });
}

test('site_bare: ald-engine --doctor names the missing objects and the command, exit 1', () => {
  const r = doctor('site_bare');
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /PROBLEM: .*the project lacks what deploy\/supabase\/migrations create: rpc\/acquire_engine_lease, rpc\/batch_update_parameter_values, rpc\/ald_set_machine_state, rpc\/ald_save_recipe, engine_leases/);
  assert.match(r.stdout, /psql "\$DATABASE_URL" -v ON_ERROR_STOP=1/);
  assert.match(r.stdout, /^doctor: [1-9]\d* problem\(s\)$/m);
});

// ---- a site without the project's migrations -------------------------------------------

describe('site_bare (no migrations applied): the engine says what is missing', () => {
  let engine;
  after(async () => { if (engine) await stopEngine(engine); });

  test('it names the missing objects and the command, and never blames another engine',
       async () => {
    sql('site_bare', `UPDATE machines SET current_operator_id = '${OPERATOR}'`);
    engine = await startEngine('site_bare');
    const log = await waitFor('the lease failure in the log', () =>
      /cannot take the lease/.test(engine.log()) ? engine.log() : null, 30);
    assert.match(log, /the project lacks what deploy\/supabase\/migrations create: rpc\/acquire_engine_lease, rpc\/batch_update_parameter_values, rpc\/ald_set_machine_state, rpc\/ald_save_recipe, engine_leases/);
    assert.match(log, /without them: no commands \(no lease\), component_parameters.current_value updates/);
    assert.match(log, /psql "\$DATABASE_URL" -v ON_ERROR_STOP=1/);
    assert.match(log, /cannot take the lease of machine .*: acquire_lease: the project has no function acquire_engine_lease/);
    assert.doesNotMatch(log, /another engine holds the lease/);
  });

  test('samples are still logged to parameter_value_history', async () => {
    const before = Number(sql('site_bare', 'SELECT count(*) FROM parameter_value_history'));
    await waitFor('new samples', () =>
      Number(sql('site_bare', 'SELECT count(*) FROM parameter_value_history')) > before ? 1 : null, 20);
  });
});
