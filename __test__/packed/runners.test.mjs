// The test runners users unit-test their agents with, each running JAF's run() against
// switchyard-llm/testing from the packed tarball: vitest (forks and threads pools), jest (two
// workers, jest.resetModules(), PDF/Word/Excel attachments) and node --test under tsx.
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { tarball, tempProject, npmInstall, run } from './support.mjs'

// One agent test, written for each runner's import style and expect().
const agentTest = ({ imports, it = 'test', expect = (a, b) => `expect(${a}).toBe(${b})` }) => `${imports}

const add = {
  schema: { name: 'add', description: 'Adds two numbers', parameters: z.object({ a: z.number(), b: z.number() }) },
  execute: async ({ a, b }) => String(a + b),
}
const agent = { name: 'Calc', instructions: () => 'Add numbers.', tools: [add], modelConfig: { name: 'gpt-4o-mini' } }

${it}('the agent calls its tool, then answers', async () => {
  const mock = await startMockUpstream()
  mock.reply({ turn: { toolCalls: [{ name: 'add', arguments: { a: 2, b: 3 } }] } }, { turn: { content: 'The sum is 5.' } })
  const result = await run(
    { runId: 'r', traceId: 't', messages: [{ role: 'user', content: '2 + 3?' }], currentAgentName: 'Calc', context: {}, turnCount: 0 },
    { agentRegistry: new Map([['Calc', agent]]), modelProvider: makeLiteLLMProvider(mock.url, 'k'), maxTurns: 4 },
  )
  ${expect('result.outcome.status', "'completed'")}
  ${expect('result.outcome.output', "'The sum is 5.'")}
  ${expect('mock.requests[1].json.messages.at(-1).role', "'tool'")}
  ${expect('mock.requests.every((r) => r.json.stream === true)', 'true')}
  await mock.assertDone()
  await mock.close()
})
`

const cjsImports = `const { run } = require('@xynehq/jaf')
const { makeLiteLLMProvider } = require('switchyard-llm')
const { startMockUpstream } = require('switchyard-llm/testing')
const { z } = require('zod')`
const esmImports = `import { run } from '@xynehq/jaf'
import { makeLiteLLMProvider } from 'switchyard-llm'
import { startMockUpstream } from 'switchyard-llm/testing'
import { z } from 'zod'`

// A one-page PDF whose text is "Hello PDF", with a correct xref table.
const PDF = `(() => {
  const objs = ['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    '<< /Length 41 >>\\nstream\\nBT /F1 18 Tf 20 100 Td (Hello PDF) Tj ET\\nendstream', '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>']
  let out = '%PDF-1.4\\n'
  const offsets = objs.map((o, i) => { const at = out.length; out += (i + 1) + ' 0 obj\\n' + o + '\\nendobj\\n'; return at })
  const xref = out.length
  out += 'xref\\n0 6\\n0000000000 65535 f \\n' + offsets.map((o) => String(o).padStart(10, '0') + ' 00000 n \\n').join('')
  out += 'trailer\\n<< /Size 6 /Root 1 0 R >>\\nstartxref\\n' + xref + '\\n%%EOF\\n'
  return Buffer.from(out).toString('base64')
})()`

const jestDocuments = `const { makeLiteLLMProvider } = require('switchyard-llm')
const { startMockUpstream } = require('switchyard-llm/testing')
const XLSX = require('xlsx')

const sent = async (attachment) => {
  const mock = await startMockUpstream()
  mock.reply({ turn: { content: 'ok' } })
  const messages = [{ role: 'user', content: 'Summarise', attachments: [attachment] }]
  await makeLiteLLMProvider(mock.url, 'k').getCompletion({ messages }, { name: 'A', instructions: () => 's', modelConfig: { name: 'm' } }, {})
  await mock.close()
  return mock.requests[0].json.messages[1].content.map((p) => p.text).join('\\n')
}

test('a PDF attachment is extracted', async () => {
  const text = await sent({ kind: 'document', mimeType: 'application/pdf', name: 'report.pdf', data: ${PDF} })
  expect(text).toContain('DOCUMENT: report.pdf (PDF text content):')
  expect(text).toContain('Hello PDF')
})

test('an Excel attachment is extracted', async () => {
  const book = XLSX.utils.book_new()
  XLSX.utils.book_append_sheet(book, XLSX.utils.aoa_to_sheet([['city', 'temp'], ['Paris', 22]]), 'Weather')
  const data = XLSX.write(book, { type: 'base64', bookType: 'xlsx' })
  const text = await sent({ kind: 'document', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', name: 'w.xlsx', data })
  expect(text).toContain('Sheet: Weather')
  expect(text).toContain('Paris,22')
})

test('a broken Word attachment says why it failed', async () => {
  const text = await sent({ kind: 'document', mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', name: 'bad.docx', data: Buffer.from('not a zip').toString('base64') })
  expect(text).toMatch(/^ERROR: Failed to process document: bad\\.docx \\((?!Unknown error).+\\)$/m)
})

test('the package loads again after jest.resetModules()', async () => {
  const first = require('switchyard-llm')
  jest.resetModules()
  const again = require('switchyard-llm')
  expect(again).not.toBe(first)
  const mock = await require('switchyard-llm/testing').startMockUpstream()
  const r = await again.makeLiteLLMProvider(mock.url, 'k').getCompletion({ messages: [{ role: 'user', content: 'x' }] }, { name: 'A', instructions: () => 's', modelConfig: { name: 'm' } }, {})
  await mock.close()
  expect(r.message.content).toBe('ok')
  expect(again.ERROR_KINDS).toContain('rate_limited')
})
`

let dir
before(() => {
  dir = tempProject('runners', {
    'package.json': { name: 'runners', private: true },
    'vitest/package.json': { name: 'vitest-app', private: true, type: 'module' },
    // JAF's ES modules use extension-less imports, which Node's loader refuses: vite resolves them.
    'vitest/vitest.config.mjs': `export default { test: { server: { deps: { inline: ['@xynehq/jaf'] } } } }\n`,
    'vitest/agent.test.ts': agentTest({ imports: `import { test, expect } from 'vitest'\n${esmImports}` }),
    'jest/package.json': { name: 'jest-app', private: true },
    // JAF ships ES modules with extension-less imports: babel-jest turns them into CommonJS.
    'jest/jest.config.js': `module.exports = { testEnvironment: 'node', transformIgnorePatterns: ['/node_modules/(?!@xynehq/jaf/)'] }\n`,
    'jest/babel.config.js': `module.exports = { presets: [['@babel/preset-env', { targets: { node: 'current' } }]] }\n`,
    'jest/agent.test.js': agentTest({ imports: cjsImports }),
    'jest/documents.test.js': jestDocuments,
    'tsx/package.json': { name: 'tsx-app', private: true, type: 'module' },
    'tsx/agent.test.ts': agentTest({
      imports: `import { test } from 'node:test'\nimport assert from 'node:assert/strict'\n${esmImports}`,
      expect: (a, b) => `assert.equal(${a}, ${b})`,
    }),
  })
  npmInstall(dir, [tarball, '@xynehq/jaf@0.1.37', 'zod@3', 'xlsx@0.18', 'vitest@3', 'jest@30', '@babel/preset-env@7', 'tsx@4'])
})

const bin = (name) => join(dir, 'node_modules', '.bin', name)

for (const pool of ['forks', 'threads']) {
  test(`vitest --pool=${pool}`, () => {
    const { output } = run(bin('vitest'), ['run', `--pool=${pool}`], { cwd: join(dir, 'vitest') })
    assert.match(output, /1 passed/)
  })
}

test('jest with two workers, resetModules and document attachments', () => {
  const { output } = run(bin('jest'), ['--maxWorkers=2', '--ci'], { cwd: join(dir, 'jest') })
  assert.match(output, /Tests:\s+5 passed, 5 total/)
})

test('node --test with tsx', () => {
  const { output } = run(process.execPath, ['--import', 'tsx', '--test', 'agent.test.ts'], { cwd: join(dir, 'tsx') })
  assert.match(output, /# pass 1/)
})
