// The packed tarball as an app installs it: CommonJS, ESM named imports, package.json, and the
// typings of a user-written route handler (object literals and JAF's own types) under
// tsc --strict with NodeNext, Bundler and node (CommonJS) resolution.
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tarball, tempProject, npmInstall, run } from './support.mjs'

let dir
before(() => {
  dir = tempProject('consumer', {
    'package.json': { name: 'consumer', private: true },
    'cjs.cjs': `const sy = require('switchyard-llm'), testing = require('switchyard-llm/testing')
      const { version } = require('switchyard-llm/package.json')
      console.log(JSON.stringify({ version, names: Object.keys(sy), testing: Object.keys(testing), error: new sy.SwitchyardError({ kind: 'auth', message: 'x' }) instanceof Error }))`,
    'esm.mjs': `import { createRequire } from 'node:module'
      const names = Object.keys(createRequire(import.meta.url)('switchyard-llm'))
      const ns = await import('switchyard-llm')
      const missing = names.filter((n) => !(n in ns) || ns[n] === undefined)
      const { SwitchyardError, ERROR_KINDS, zodToJsonSchema, estimateCost, toSSEResponse } = ns
      const { startMockUpstream } = await import('switchyard-llm/testing')
      const mock = await startMockUpstream()
      const { makeLiteLLMProvider } = ns
      mock.reply({ turn: { content: 'hi from ESM' } })
      const r = await makeLiteLLMProvider(mock.url, 'k').getCompletion({ messages: [{ role: 'user', content: 'x' }] }, { name: 'A', instructions: () => 's', modelConfig: { name: 'm' } }, {})
      await mock.assertDone(); await mock.close()
      console.log(JSON.stringify({ missing, kinds: ERROR_KINDS.length, answer: r.message.content, fns: [SwitchyardError, zodToJsonSchema, estimateCost, toSSEResponse].map((f) => typeof f) }))`,
    // What a user writes in a Next.js route: object literals, no JAF types.
    'src/route.ts': `import { makeLiteLLMProvider, toSSEResponse, SwitchyardError, type ErrorKind } from 'switchyard-llm'
      import { startMockUpstream, type MockReply } from 'switchyard-llm/testing'

      const modelProvider = makeLiteLLMProvider(process.env.LITELLM_URL, process.env.LITELLM_API_KEY)
      const agent = { name: 'Helper', instructions: () => 'Be brief.', tools: [], modelConfig: { name: 'gpt-4o-mini', temperature: 0 } }

      export async function POST(request: Request): Promise<Response> {
        const { message } = (await request.json()) as { message: string }
        const state = { runId: 'r1', traceId: 't1', messages: [{ role: 'user' as const, content: message }], currentAgentName: agent.name, context: { userId: 'u' }, turnCount: 0 }
        const config = { agentRegistry: new Map(), modelProvider, maxTurns: 5, onEvent: (e: { type: string }) => void e.type, context: { userId: 'u' } }
        await modelProvider.getCompletion(state, agent, config)
        return toSSEResponse((signal) => modelProvider.getCompletionStream(state, agent, { agentRegistry: new Map(), modelProvider, signal }), {
          signal: request.signal,
          map: (chunk) => (chunk.delta ? { text: chunk.delta } : undefined),
        })
      }
      export async function mock(): Promise<void> {
        const m = await startMockUpstream()
        const reply: MockReply = { turn: { content: 'x', toolCalls: [{ name: 't', arguments: {} }] } }
        m.reply(reply)
        await m.assertDone()
      }
      export const kind = (e: unknown): ErrorKind | undefined => (e instanceof SwitchyardError ? e.kind : undefined)`,
    // The case, with JAF's own types and engine: a JAF-shaped run config literal.
    'src/jaf-route.ts': `import { runStream, type Agent, type RunConfig, type RunState } from '@xynehq/jaf'
      import { makeLiteLLMProvider, toSSEResponse } from 'switchyard-llm'

      type Ctx = { userId: string }
      const modelProvider = makeLiteLLMProvider<Ctx>('http://127.0.0.1:4000')
      declare const agent: Agent<Ctx, string>
      declare const state: RunState<Ctx>
      const config: RunConfig<Ctx> = { agentRegistry: new Map([[agent.name, agent]]), modelProvider, maxTurns: 3 }
      export async function POST(request: Request): Promise<Response> {
        for await (const c of modelProvider.getCompletionStream(state, agent, { agentRegistry: new Map(), modelProvider })) void c.delta
        await modelProvider.getCompletion(state, agent, config)
        return toSSEResponse(() => runStream(state, config), { signal: request.signal, map: (e) => e.type })
      }`,
    'tsconfig.nodenext.json': { compilerOptions: { strict: true, noEmit: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2022', 'DOM'], types: ['node'], skipLibCheck: true }, files: ['src/route.ts'] },
    'tsconfig.node.json': { compilerOptions: { strict: true, noEmit: true, module: 'CommonJS', moduleResolution: 'node', target: 'ES2022', lib: ['ES2022', 'DOM'], types: ['node'], skipLibCheck: true }, files: ['src/route.ts'] },
    'tsconfig.bundler.json': { compilerOptions: { strict: true, noEmit: true, module: 'ESNext', moduleResolution: 'Bundler', target: 'ES2022', lib: ['ES2022', 'DOM'], types: ['node'], skipLibCheck: true }, files: ['src/route.ts', 'src/jaf-route.ts'] },
  })
  npmInstall(dir, [tarball, '@xynehq/jaf@0.1.37', 'zod@3', 'typescript@5.9', '@types/node@20'])
})

test('CommonJS: the package, its testing entry and package.json', () => {
  const out = JSON.parse(run(process.execPath, ['cjs.cjs'], { cwd: dir }).output)
  assert.equal(out.version, '0.1.0')
  assert.ok(out.names.includes('makeLiteLLMProvider') && out.testing.includes('startMockUpstream'))
  assert.equal(out.error, true)
})

test('ESM: every export by name, and a call through the mock', () => {
  const out = JSON.parse(run(process.execPath, ['esm.mjs'], { cwd: dir }).output)
  assert.deepEqual(out.missing, [])
  assert.equal(out.answer, 'hi from ESM')
  assert.ok(out.kinds > 10)
  assert.deepEqual(out.fns, ['function', 'function', 'function', 'function'])
})

for (const resolution of ['nodenext', 'node', 'bundler']) {
  test(`tsc --strict accepts the route handler (${resolution} resolution)`, () => {
    run(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', `tsconfig.${resolution}.json`], { cwd: dir })
  })
}

test('tsc still rejects wrong code', () => {
  writeFileSync(join(dir, 'src', 'bad.ts'), `import { makeLiteLLMProvider } from 'switchyard-llm'\nmakeLiteLLMProvider(4000)\n`)
  const config = { compilerOptions: { strict: true, noEmit: true, module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'], skipLibCheck: true }, files: ['src/bad.ts'] }
  writeFileSync(join(dir, 'tsconfig.bad.json'), JSON.stringify(config))
  const { status, output } = run(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.bad.json'], { cwd: dir, expectFail: true })
  assert.notEqual(status, 0)
  assert.match(output, /bad\.ts\(2,\d+\): error TS2345/)
})
