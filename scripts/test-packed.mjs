// The packed-package suites: packs this repo (with the built addon) once, then runs
// __test__/packed/*.test.mjs, which install the tarball into temp projects from the npm registry.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'target', 'packed')
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
execFileSync('npm', ['pack', '--silent', '--pack-destination', out], { cwd: root, stdio: 'inherit' })
const tarball = join(out, readdirSync(out).find((f) => f.endsWith('.tgz')))
const suites = readdirSync(join(root, '__test__', 'packed')).filter((f) => f.endsWith('.test.mjs')).map((f) => join('__test__', 'packed', f))
const only = process.argv.slice(2)
execFileSync(process.execPath, ['--test', '--test-concurrency=1', ...(only.length ? only : suites)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, SWITCHYARD_TARBALL: tarball },
})
