// Temp projects that install the packed tarball (SWITCHYARD_TARBALL, from scripts/test-packed.mjs).
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

export const tarball = process.env.SWITCHYARD_TARBALL
assert.ok(tarball, 'run through scripts/test-packed.mjs (npm run test:packed)')

/** Runs a command; its output is returned, and printed when it fails. */
export function run(cmd, args, { cwd, env, expectFail = false } = {}) {
  // Not NODE_TEST_CONTEXT: a `node --test` inside would report to this runner instead of printing.
  const { NODE_TEST_CONTEXT, ...inherited } = process.env
  const r = spawnSync(cmd, args, { cwd, env: { ...inherited, ...env }, encoding: 'utf8', maxBuffer: 64 << 20 })
  const output = `${r.stdout}\n${r.stderr}`
  if (!expectFail && r.status !== 0) assert.fail(`${cmd} ${args.join(' ')} failed (${r.status}) in ${cwd}:\n${output.slice(-6000)}`)
  return { status: r.status, output }
}

const made = []
// Installed projects are hundreds of MB: remove them when the suite's process ends.
process.on('exit', () => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })))

/** A new temp dir, removed when the process exits. */
export function tempDir(name) {
  const dir = mkdtempSync(join(tmpdir(), `switchyard-${name}-`))
  made.push(dir)
  return dir
}

/** Writes `files` (path → text) under a new temp dir and returns it. */
export function tempProject(name, files) {
  const dir = tempDir(name)
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true })
    writeFileSync(join(dir, file), typeof text === 'string' ? text : `${JSON.stringify(text, null, 2)}\n`)
  }
  return dir
}

export const npmInstall = (dir, args = [], opts = {}) => run('npm', ['install', '--no-audit', '--no-fund', ...args], { cwd: dir, ...opts })
