// One provider registry, in the Rust core: the typings' ProviderId, the capability matrix, the
// README's provider table and the aliases are all checked against it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { listProviders, createProvider } = require('../lib/index.js')
const native = require('../index.js')
const { CAPABILITIES } = require('../lib/capabilities.js')

const ids = listProviders().map((p) => p.id)
const read = (file) => readFileSync(new URL(file, import.meta.url), 'utf8')

test("the typings' ProviderId union is the registry's ids", () => {
  const union = /export type ProviderId =([^]*?)\n\n/.exec(read('../lib/index.d.ts'))[1]
  assert.deepEqual([...union.matchAll(/'(\w+)'/g)].map((m) => m[1]), ids)
})

test('the capability matrix covers exactly the registry (plus the litellm proxy face)', () => {
  assert.deepEqual(Object.keys(CAPABILITIES).filter((id) => id !== 'litellm').sort(), [...ids].sort())
})

test("the README's provider table is the registry: ids, adapters, default URLs, env vars", () => {
  const rows = Object.fromEntries(
    [...read('../README.md').matchAll(/^\| `(\w+)` \| (\w+) \| (.*)$/gm)].map((m) => [m[1], { adapter: m[2], rest: m[3] }]),
  )
  assert.deepEqual(Object.keys(rows).sort(), [...ids].sort())
  for (const p of listProviders()) {
    const row = rows[p.id]
    assert.equal(row.adapter, p.adapter, p.id)
    if (p.defaultBaseUrl) assert.ok(row.rest.includes(`\`${p.defaultBaseUrl}\``), `${p.id} default URL`)
    for (const env of [...p.apiKeyEnv, ...p.baseUrlEnv]) assert.ok(row.rest.includes(`\`${env}\``), `${p.id} ${env}`)
  }
})

test('aliases come from the registry and name real providers', () => {
  for (const [alias, id] of native.providerAliases()) {
    assert.ok(ids.includes(id), alias)
    assert.equal(createProvider(alias.toUpperCase(), { apiKey: 'k', baseURL: 'http://127.0.0.1:9' }).id, id)
  }
})
