// Installing where no prebuilt addon fits: the tarball with its binary removed. With cargo the
// install builds the addon from the shipped sources; without it the install fails saying what to
// do; with install scripts skipped (npm 11's default for registry packages) the first call says
// so, typed. (npm runs the script of a tarball installed by path, as here.)
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tarball, tempDir, tempProject, npmInstall, run } from './support.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const target = 'linux-x64-gnu'
const use = `const sy = require('switchyard-llm')
const { startMockUpstream } = require('switchyard-llm/testing')
startMockUpstream().then(async (mock) => {
  try {
    const r = await sy.makeLiteLLMProvider(mock.url, 'k').getCompletion({ messages: [{ role: 'user', content: 'x' }] }, { name: 'A', instructions: () => 's', modelConfig: { name: 'm' } }, {})
    console.log('answer:', r.message.content)
  } catch (err) {
    console.log('error:', err.kind, err.message)
  } finally {
    await mock.close()
  }
})`

let noBinary
before(() => {
  const work = tempDir('nobin')
  run('tar', ['xzf', tarball, '-C', work])
  for (const f of readdirSync(join(work, 'package'))) if (f.endsWith('.node')) rmSync(join(work, 'package', f))
  noBinary = join(work, 'switchyard-llm-nobin.tgz')
  run('tar', ['czf', noBinary, '-C', work, 'package'])
})

const project = () => tempProject('install', { 'package.json': { name: 'app', private: true }, 'use.cjs': use })
// PATH with every directory holding cargo left out (node and npm stay reachable).
const pathWithoutCargo = () =>
  process.env.PATH.split(delimiter)
    .filter((d) => !existsSync(join(d, 'cargo')))
    .join(delimiter)

test('install scripts skipped: loading works, the first call says what to do', () => {
  const dir = project()
  npmInstall(dir, ['--ignore-scripts', noBinary])
  const { output } = run(process.execPath, ['use.cjs'], { cwd: dir })
  assert.match(output, new RegExp(`error: internal switchyard-llm has no native addon for ${target}`))
  assert.match(output, /rustup\.rs/)
  assert.doesNotMatch(output, /cannot find module|npm has a bug/i)
})

test('no cargo: the install fails naming the platform and what to do', () => {
  assert.ok(!pathWithoutCargo().split(delimiter).some((d) => existsSync(join(d, 'cargo'))))
  const dir = project()
  const { status, output } = npmInstall(dir, [noBinary], {
    env: { PATH: pathWithoutCargo() },
    expectFail: true,
  })
  assert.notEqual(status, 0)
  assert.match(output, new RegExp(`no prebuilt addon for ${target} and no Rust toolchain`))
  assert.match(output, /https:\/\/rustup\.rs/)
  assert.doesNotMatch(output, /cannot find module/i)
})

test('with cargo: the install builds the addon from source', () => {
  const dir = project()
  // Where `napi build --platform` built the repo's addon: its dependencies are compiled there.
  const env = { SWITCHYARD_BUILD_PROFILE: 'dev', CARGO_TARGET_DIR: join(root, 'target'), CARGO_BUILD_TARGET: 'x86_64-unknown-linux-gnu' }
  npmInstall(dir, [noBinary], { env })
  const built = join(dir, 'node_modules', 'switchyard-llm', `switchyard-llm.${target}.node`)
  assert.ok(statSync(built).size > 1e6, 'the addon was built into the package')
  assert.match(run(process.execPath, ['use.cjs'], { cwd: dir }).output, /answer: ok/)
})

test('the per-platform package, as the release packs it, supplies the addon', () => {
  const artifacts = tempDir('artifacts')
  run('tar', ['xzf', tarball, '-C', artifacts, `package/switchyard-llm.${target}.node`])
  const out = join(artifacts, 'dist')
  run(process.execPath, [join(root, 'scripts', 'pack-platforms.mjs'), '--artifacts', join(artifacts, 'package'), '--out', out, '--allow-missing'])
  const dir = project()
  npmInstall(dir, [noBinary, join(out, `switchyard-llm-${target}-0.1.0.tgz`)])
  assert.ok(!existsSync(join(dir, 'node_modules', 'switchyard-llm', `switchyard-llm.${target}.node`)))
  assert.match(run(process.execPath, ['use.cjs'], { cwd: dir }).output, /answer: ok/)
})
