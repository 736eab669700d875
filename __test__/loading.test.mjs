// Loading the package: no side effects until first use (next build evaluates route modules
// without env or upstream), every export importable by name from ESM, and the addon safe to
// load again in one process and in worker threads.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const lib = fileURLToPath(new URL('../lib/', import.meta.url))
const tmp = mkdtempSync(join(tmpdir(), 'switchyard-loading-'))
after(() => rmSync(tmp, { recursive: true, force: true }))
const runNode = (file) => execFileSync(process.execPath, [file], { encoding: 'utf8', env: { ...process.env, SY_LIB: lib } })

test('loading reads no env, opens no socket and starts no thread until first use', () => {
  const probe = join(tmp, 'probe.cjs')
  writeFileSync(
    probe,
    `const fs = require('node:fs'), net = require('node:net'), path = require('node:path')
    const lib = process.env.SY_LIB
    const threads = () => fs.readdirSync('/proc/self/task').length
    const sockets = () => fs.readdirSync('/proc/self/fd').filter((fd) => { try { return fs.readlinkSync('/proc/self/fd/' + fd).startsWith('socket:') } catch { return false } }).length
    const envReads = []
    const realEnv = process.env
    process.env = new Proxy(realEnv, { get: (t, k) => (envReads.push(String(k)), t[k]), has: (t, k) => (envReads.push(String(k)), k in t) })
    const connects = []
    const connect = net.Socket.prototype.connect
    net.Socket.prototype.connect = function (...args) { connects.push(args); return connect.apply(this, args) }
    const before = { threads: threads(), sockets: sockets() }
    const sy = require(path.join(lib, 'index.js'))
    require(path.join(lib, 'testing.js'))
    const loaded = { threads: threads(), sockets: sockets(), envReads: [...envReads], connects: connects.length, exports: Object.keys(sy).length }
    sy.estimateCost('gpt-4o', 1, 1)
    const used = { threads: threads() }
    console.log(JSON.stringify({ before, loaded, used }))`,
  )
  const { before, loaded, used } = JSON.parse(runNode(probe))
  assert.ok(loaded.exports > 10)
  assert.deepEqual(loaded.envReads, [], 'no env read at load')
  assert.equal(loaded.connects, 0, 'no socket connected at load')
  assert.equal(loaded.sockets, before.sockets, 'no socket opened at load')
  assert.equal(loaded.threads, before.threads, 'no thread started at load')
  assert.ok(used.threads > loaded.threads, `first use starts the runtime (${loaded.threads} → ${used.threads} threads)`)
})

test('an ES module import starts no thread either', () => {
  const probe = join(tmp, 'probe.mjs')
  writeFileSync(
    probe,
    `import fs from 'node:fs'
    const threads = () => fs.readdirSync('/proc/self/task').length
    const before = threads()
    const { SwitchyardError, ERROR_KINDS, makeLiteLLMProvider } = await import(process.env.SY_LIB + 'index.js')
    const loaded = threads()
    makeLiteLLMProvider('http://127.0.0.1:1', 'k')
    console.log(JSON.stringify({ before, loaded, used: threads(), ok: typeof SwitchyardError === 'function' && Array.isArray(ERROR_KINDS) }))`,
  )
  const { before, loaded, used, ok } = JSON.parse(runNode(probe))
  assert.ok(ok)
  assert.equal(loaded, before, 'no thread started at import')
  assert.ok(used > loaded, 'first use starts the runtime')
})

test('every export imports by name from an ES module', () => {
  const entries = { 'index.js': Object.keys(require('../lib/index.js')), 'testing.js': Object.keys(require('../lib/testing.js')) }
  const file = join(tmp, 'named.mjs')
  const lines = Object.entries(entries).flatMap(([mod, names], i) => [
    `import { ${names.map((n) => `${n} as m${i}_${n}`).join(', ')} } from ${JSON.stringify(join(lib, mod))}`,
    `for (const [n, v] of Object.entries({ ${names.map((n) => `${n}: m${i}_${n}`).join(', ')} })) if (v === undefined) throw new Error(n + ' is undefined')`,
  ])
  writeFileSync(file, `${lines.join('\n')}\nconsole.log('ok', ${entries['index.js'].length + entries['testing.js'].length})\n`)
  assert.equal(runNode(file).trim(), `ok ${entries['index.js'].length + entries['testing.js'].length}`)
  assert.ok(entries['index.js'].includes('SwitchyardError') && entries['index.js'].includes('ERROR_KINDS') && entries['index.js'].includes('toSSEResponse'))
})

test('the addon loads again after the module cache is cleared, and in worker threads', () => {
  const file = join(tmp, 'reload.cjs')
  writeFileSync(
    file,
    `const path = require('node:path'), { Worker } = require('node:worker_threads')
    const lib = process.env.SY_LIB
    const call = () => require(path.join(lib, 'index.js')).listProviders().length
    const first = call()
    for (const key of Object.keys(require.cache)) delete require.cache[key]
    const again = call()
    const code = "const { parentPort, workerData } = require('node:worker_threads'); const sy = require(workerData + 'index.js'); const { startMockUpstream } = require(workerData + 'testing.js');" +
      "startMockUpstream().then(async (mock) => { const p = sy.makeLiteLLMProvider(mock.url, 'k'); const r = await p.getCompletion({ messages: [{ role: 'user', content: 'hi' }] }, { name: 'A', instructions: () => 's', modelConfig: { name: 'm' } }, {}); await mock.close(); parentPort.postMessage(r.message.content) })"
    const run = () => new Promise((resolve, reject) => { const w = new Worker(code, { eval: true, workerData: lib }); w.once('message', (m) => { resolve(m); w.terminate() }); w.once('error', reject) })
    Promise.all([run(), run()]).then(async (answers) => { const later = await run(); console.log(JSON.stringify({ first, again, answers, later, main: call() })) })`,
  )
  const out = JSON.parse(runNode(file))
  assert.ok(out.first > 10)
  assert.equal(out.again, out.first)
  assert.deepEqual(out.answers, ['ok', 'ok'])
  assert.equal(out.later, 'ok', 'a worker started after others ended still works')
  assert.equal(out.main, out.first)
})
