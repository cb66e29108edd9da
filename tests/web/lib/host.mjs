// Starts the REAL omnihost binary for a browser test: --port 0 (it prints the bound URL), a temp
// --data-dir, the repo's web/ and recipes/, and the plugin folder of the build. A missing
// prerequisite throws with a message that says what to build (a failure, never a skip).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export function buildDir() {
  const dir = process.env.OMNIHOST_BUILD;
  if (!dir) throw new Error('OMNIHOST_BUILD is not set: run with OMNIHOST_BUILD=<absolute build dir> (e.g. make test does)');
  if (!path.isAbsolute(dir)) throw new Error(`OMNIHOST_BUILD must be absolute, got "${dir}"`);
  if (!fs.existsSync(dir)) throw new Error(`OMNIHOST_BUILD=${dir} does not exist: configure and build first`);
  return dir;
}

export function requireFile(file, hint) {
  if (!fs.existsSync(file)) throw new Error(`missing prerequisite ${file}: ${hint}`);
  return file;
}

export function hostBinary() {
  return requireFile(path.join(buildDir(), 'host', 'omnihost'), 'build the host (ninja -C <build> omnihost)');
}

/** The folder of built in-process/proxy plugins; checks that the named plugin manifests are there. */
export function pluginDir(required = ['video_diffusion']) {
  const dir = path.join(buildDir(), 'plugins');
  for (const id of required) {
    requireFile(path.join(dir, `${id}.plugin.json`), `build the ${id} plugin (its manifest lands in <build>/plugins)`);
  }
  return dir;
}

export function makeDemoModelTool() {
  const candidates = [
    path.join(buildDir(), 'tools', 'make_demo_model', 'omnihost-make-demo-model'),
    path.join(buildDir(), 'tools', 'omnihost-make-demo-model'),
    path.join(buildDir(), 'bin', 'omnihost-make-demo-model'),
  ];
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) throw new Error(`missing prerequisite omnihost-make-demo-model (looked in ${candidates.join(', ')}): build target omnihost_make_demo_model`);
  return found;
}

/** Writes the tiny demo model where the demo recipe expects it (<data-dir>/models/wan-tiny-demo). */
export function makeDemoModel(dataDir) {
  const recipe = JSON.parse(fs.readFileSync(path.join(REPO, 'recipes', 'demo-wan-tiny.json'), 'utf8'));
  const target = path.join(dataDir, recipe.model);
  const run = spawnSync(makeDemoModelTool(), [target], { encoding: 'utf8', timeout: 120000 });
  if (run.status !== 0) throw new Error(`omnihost-make-demo-model ${target} failed (${run.status}): ${run.stderr || run.stdout}`);
  return target;
}

export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `omnihost-web-${prefix}-`));
}

/**
 * Starts the host; resolves {url, dataDir, stop(), output()} once it printed its URL and answers.
 * options: {plugins: folder, recipes: folder, token, dataDir, port (default 0 = ephemeral), extraArgs,
 * env (variables added to the host's environment)}
 */
export async function startHost(options = {}) {
  const ownDataDir = !options.dataDir;
  const dataDir = options.dataDir || tempDir('data');
  const args = [
    '--host', '127.0.0.1', '--port', String(options.port || 0),
    '--plugin-dir', options.plugins || pluginDir(),
    '--recipe-dir', options.recipes || path.join(REPO, 'recipes'),
    '--web-dir', path.join(REPO, 'web'),
    '--data-dir', dataDir,
    ...(options.token ? ['--token', options.token] : []),
    ...(options.extraArgs || []),
  ];
  const env = { ...process.env, OMP_NUM_THREADS: process.env.OMP_NUM_THREADS || '2', ...(options.env || {}) };
  delete env.OMNIHOST_TOKEN; // the test decides about auth
  const child = spawn(hostBinary(), args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`host printed no URL within 30 s. Output:\n${output}`)), 30000);
    const onData = (chunk) => {
      output += chunk;
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (m && !/:0\b/.test(m[1])) { clearTimeout(timer); resolve(m[1]); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`host exited with ${code} before serving. Output:\n${output}`)); });
  });
  child.stdout.on('data', (c) => { output += c; });
  child.stderr.on('data', (c) => { output += c; });
  const exited = () => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) { resolve(child.exitCode); return; }
    const kill = setTimeout(() => child.kill('SIGKILL'), 15000);
    child.once('exit', (code) => { clearTimeout(kill); resolve(code); });
    child.kill('SIGTERM');
  });
  /** Stops the host; `keepData` leaves the temp data dir for a restart on it. */
  const stop = async ({ keepData = false } = {}) => {
    const code = await exited();
    if (ownDataDir && !keepData) fs.rmSync(dataDir, { recursive: true, force: true });
    return code;
  };
  return { url, dataDir, stop, output: () => output, process: child };
}
