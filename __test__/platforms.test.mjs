// Platforms the napi-rs way: the declared targets, the generated loader, `os`/`cpu`, no
// unpublished package as a dependency, and the release's packing step (scripts/pack-platforms.mjs).
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, copyFileSync, mkdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const PLATFORMS = {
  'x86_64-unknown-linux-gnu': 'linux-x64-gnu',
  'aarch64-unknown-linux-gnu': 'linux-arm64-gnu',
  'x86_64-unknown-linux-musl': 'linux-x64-musl',
  'aarch64-unknown-linux-musl': 'linux-arm64-musl',
  'x86_64-apple-darwin': 'darwin-x64',
  'aarch64-apple-darwin': 'darwin-arm64',
  'x86_64-pc-windows-msvc': 'win32-x64-msvc',
}

test('the targets are declared in package.json, the loader and the release workflow', () => {
  assert.deepEqual([...pkg.napi.targets].sort(), Object.keys(PLATFORMS).sort())
  assert.deepEqual(pkg.os, ['linux', 'darwin', 'win32'])
  assert.deepEqual(pkg.cpu, ['x64', 'arm64'])
  const loader = readFileSync(join(root, 'index.js'), 'utf8')
  for (const platform of Object.values(PLATFORMS)) {
    assert.ok(loader.includes(`require('./switchyard-llm.${platform}.node')`), platform)
    assert.ok(loader.includes(`require('switchyard-llm-${platform}')`), platform)
  }
  const workflow = readFileSync(join(root, '.github', 'workflows', 'release.yml'), 'utf8')
  assert.deepEqual([...workflow.matchAll(/target: ([\w-]+), host/g)].map((m) => m[1]).sort(), Object.keys(PLATFORMS).sort())
})

test('no per-platform package is a dependency before the release fills them in', () => {
  for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies']) {
    assert.deepEqual(Object.keys(pkg[field] ?? {}).filter((n) => n.startsWith('switchyard-llm-')), [], field)
  }
})

test('the release packs one package per built platform and lists exactly those', () => {
  const work = mkdtempSync(join(tmpdir(), 'switchyard-release-'))
  after(() => rmSync(work, { recursive: true, force: true }))
  const artifacts = join(work, 'artifacts', 'bindings-x86_64-unknown-linux-gnu')
  mkdirSync(artifacts, { recursive: true })
  const addon = readdirSync(root).find((f) => f === 'switchyard-llm.linux-x64-gnu.node')
  assert.ok(addon, 'the addon is built')
  copyFileSync(join(root, addon), join(artifacts, addon))
  const out = join(work, 'dist')
  const script = join(root, 'scripts', 'pack-platforms.mjs')

  const strict = spawnSync(process.execPath, [script, '--artifacts', join(work, 'artifacts'), '--out', out], { encoding: 'utf8' })
  assert.notEqual(strict.status, 0, 'a missing target fails the release')
  assert.match(strict.stderr, /no addon in .* for: .*darwin-arm64/)

  execFileSync(process.execPath, [script, '--artifacts', join(work, 'artifacts'), '--out', out, '--allow-missing'], { stdio: 'pipe' })
  assert.deepEqual(readdirSync(out).filter((f) => f.endsWith('.tgz')), ['switchyard-llm-linux-x64-gnu-0.1.0.tgz'])
  const files = execFileSync('tar', ['tzf', join(out, 'switchyard-llm-linux-x64-gnu-0.1.0.tgz')], { encoding: 'utf8' }).split('\n').filter(Boolean)
  assert.deepEqual(files.sort(), ['package/README.md', 'package/package.json', 'package/switchyard-llm.linux-x64-gnu.node'])
  const platformPkg = JSON.parse(execFileSync('tar', ['xzOf', join(out, 'switchyard-llm-linux-x64-gnu-0.1.0.tgz'), 'package/package.json'], { encoding: 'utf8' }))
  assert.equal(platformPkg.main, 'switchyard-llm.linux-x64-gnu.node')
  assert.deepEqual([platformPkg.os, platformPkg.cpu, platformPkg.libc], [['linux'], ['x64'], ['glibc']])
  const main = JSON.parse(readFileSync(join(out, 'package.json'), 'utf8'))
  assert.deepEqual(main.optionalDependencies, { 'switchyard-llm-linux-x64-gnu': '0.1.0' })
  assert.equal(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).optionalDependencies, undefined, 'the repo manifest is untouched')
})
