// The whole test suite: Rust (core + binding), the typings check, then the Node suites
// (including one against a real LiteLLM proxy and several against a real redis-server). `--js`: only the Node suites, run by the node
// binary that runs this script (CI runs them again on Node 22 and 24 this way).
// Node's runner goes last so its summary closes the output.
import { execSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const run = (cmd) => execSync(cmd, { cwd: root, stdio: 'inherit' })
const jsOnly = process.argv.includes('--js')

// redis-server for the shared-state tests (Rust and Node); a no-op once installed.
run('bash scripts/install-redis.sh')
if (!jsOnly) {
  run('cargo test --workspace')
  // The LiteLLM proxy (PyPI) for __test__/litellm-proxy.test.mjs; a no-op once installed.
  run('bash scripts/install-litellm.sh')
  run('npx tsc -p __test__/typings/tsconfig.json')
}
const suites = readdirSync(join(root, '__test__')).filter((f) => f.endsWith('.test.mjs')).map((f) => `__test__/${f}`)
run(`"${process.execPath}" --test --test-concurrency=1 ${suites.join(' ')}`)
