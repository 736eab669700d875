// The README documents generated facts; keep them true.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { renderMatrix } from '../scripts/capability-matrix.mjs'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))

test('the capability matrix is the one lib/capabilities.js renders', () => {
  assert.ok(readme.includes(renderMatrix()), 'run: node scripts/capability-matrix.mjs --write')
})

test('the quick start commands exist', () => {
  const quickStart = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('## Install'))
  for (const script of ['demo', 'test']) {
    assert.match(quickStart, new RegExp(`npm (run )?${script}\\b`))
    assert.ok(pkg.scripts[script], `package.json has no "${script}" script`)
  }
})

test('every ❌ and every fallback in the capability matrix says why', async () => {
  const { createRequire } = await import('node:module')
  const { CAPABILITIES } = createRequire(import.meta.url)('../lib/capabilities.js')
  for (const [id, caps] of Object.entries(CAPABILITIES)) {
    for (const [feature, { support, note }] of Object.entries(caps)) {
      if (support !== 'yes') assert.ok(note, `${id}.${feature} is '${support}' without a reason`)
    }
  }
})
