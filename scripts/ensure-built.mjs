// Makes a fresh clone runnable: installs npm dependencies when they are missing or stale, then
// builds the addon (debug by default, `--release` for benchmarks). Cargo makes a no-op rebuild cheap.
import { execSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const run = (cmd) => execSync(cmd, { cwd: root, stdio: 'inherit' })

const installed = join(root, 'node_modules', '.package-lock.json')
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(join(root, 'package-lock.json')).mtimeMs) {
  // npm 11 may reject its own lockfile over an unpublished optional package (npm/cli#9846).
  try {
    run('npm ci --no-audit --no-fund')
  } catch {
    run('npm install --no-audit --no-fund')
  }
}
run(process.argv.includes('--release') ? 'npx napi build --platform --release' : 'npx napi build --platform')
