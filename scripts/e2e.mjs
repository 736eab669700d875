// End-to-end: examples/nextjs-agent, installed from this repo's packed tarball, built with
// `next build`, served by `next start` on 127.0.0.1 and driven in headless Chromium
// (playwright-core, Debian's /usr/bin/chromium). Checks that the answer streams in, tool result
// included; that Stop cancels the upstream request (the mock sees the disconnect); that a later
// request works; and that the example answers from its embedded mock without a provider.
// Saves a screenshot to target/e2e/chat.png.
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const work = mkdtempSync(join(tmpdir(), 'switchyard-e2e-'))
const app = join(work, 'app')
const step = (what) => console.log(`e2e: ${what}`)
const sh = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: 'inherit', env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } })

step('packing the repo and installing the example')
sh('npm', ['pack', '--silent', '--pack-destination', work], root)
const tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz')))
cpSync(join(root, 'examples', 'nextjs-agent'), app, { recursive: true, filter: (src) => !/node_modules|\.next/.test(src) })
sh('npm', ['install', '--no-audit', '--no-fund', tarball, 'playwright-core@1'], app)
step('next build')
sh(process.execPath, [join(app, 'node_modules', 'next', 'dist', 'bin', 'next'), 'build'], app)

const appRequire = createRequire(join(app, 'package.json'))
const { startMockUpstream } = appRequire('switchyard-llm/testing')
const { chromium } = appRequire('playwright-core')

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })

async function startNext(env) {
  const port = await freePort()
  const child = spawn(process.execPath, [join(app, 'node_modules', 'next', 'dist', 'bin', 'next'), 'start', '-H', '127.0.0.1', '-p', String(port)], {
    cwd: app,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', LITELLM_URL: '', USE_LITELLM: '', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`next start exited with ${child.exitCode}`)
    if (await fetch(url).then((r) => r.ok, () => false)) return { url, stop: () => child.kill('SIGTERM') }
    await sleep(100)
  }
  child.kill('SIGTERM')
  throw new Error('next start did not answer within 30 s')
}

// JAF sends a tool's result wrapped: {"status":"executed","result":…}.
const toolResult = (content) => {
  try {
    return JSON.parse(content).result ?? content
  } catch {
    return content
  }
}

// The upstream: a tool call first; then the answer, word by word (a long one when asked).
const mock = await startMockUpstream({
  handler: (req) => {
    const messages = req.json?.messages ?? []
    const last = messages.at(-1)
    if (last?.role === 'tool') {
      const long = JSON.stringify(messages).includes('long story')
      const words = long ? Array.from({ length: 400 }, (_, i) => ` word${i}`) : `Right now: ${toolResult(last.content)}, a fine day.`.split(/(?= )/)
      return { turn: { content: words, usage: { prompt_tokens: 30, completion_tokens: words.length } }, chunkDelayMs: long ? 50 : 60 }
    }
    const city = /in ([A-Z]\w+)/.exec(String(last?.content))?.[1] ?? 'Paris'
    return { turn: { toolCalls: [{ name: 'get_weather', arguments: { city } }] } }
  },
})

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true })
let server
try {
  step('next start against a mock LiteLLM upstream')
  server = await startNext({ LITELLM_URL: mock.url })
  const page = await browser.newPage()
  await page.goto(server.url)
  const status = page.getByTestId('status')
  const assistant = page.getByTestId('msg-assistant').last()

  /** Sends `text`, recording the assistant's text as it grows until `until` says stop. */
  async function send(text, until) {
    await page.getByTestId('input').fill(text)
    await page.getByTestId('send').click()
    const seen = []
    for (let i = 0; i < 1500; i++) {
      const now = (await assistant.count()) ? await assistant.textContent() : ''
      if (now && now !== seen.at(-1)) seen.push(now)
      if (await until(now, seen)) return seen
      await sleep(20)
    }
    throw new Error(`no end for ${JSON.stringify(text)}; last status ${await status.textContent()}`)
  }

  step('the answer streams in, tool result included')
  const seen = await send('What is the weather in Paris?', async () => (await status.textContent()) === 'done')
  const final = seen.at(-1)
  assert.match(final, /Right now: Sunny and 22°C in Paris, a fine day\./)
  assert.ok(seen.length >= 3, `the answer grew in steps: ${JSON.stringify(seen)}`)
  seen.forEach((s, i) => i && assert.ok(s.startsWith(seen[i - 1]), 'each step extends the last'))
  const tools = await page.getByTestId('msg-tool').allTextContents()
  assert.deepEqual(tools, ['tool: → get_weather({"city":"Paris"})', 'tool: ← get_weather: Sunny and 22°C in Paris'])

  step('Stop cancels the upstream request')
  const before = mock.requests.length
  await send('Tell me a long story in Rome', async (now) => /word5\b/.test(now))
  await page.getByTestId('stop').click()
  await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent === 'stopped')
  const streamed = mock.requests.slice(before).find((r) => r.json?.stream && r.json.messages.at(-1).role === 'tool')
  assert.ok(streamed, 'the answer was streamed from the mock')
  for (let i = 0; i < 100 && !streamed.disconnected; i++) await sleep(50)
  assert.equal(streamed.disconnected, true, 'the mock saw the upstream request cancelled')
  const cut = (await assistant.textContent()).match(/word\d+/g).length
  assert.ok(cut < 100, `the stream stopped early (${cut} words of 400)`)

  step('a later request still works')
  const again = await send('And the weather in Berlin?', async () => (await status.textContent()) === 'done')
  assert.match(again.at(-1), /Sunny and 22°C in Berlin/)
  mkdirSync(join(root, 'target', 'e2e'), { recursive: true })
  await page.screenshot({ path: join(root, 'target', 'e2e', 'chat.png'), fullPage: true })
  server.stop()

  step('next start with no provider: the embedded mock answers')
  server = await startNext({})
  await page.goto(server.url)
  await page.getByTestId('send').click()
  await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent === 'done', null, { timeout: 30_000 })
  assert.match(await assistant.textContent(), /The weather tool says: Sunny and 22°C in Paris\. Enjoy your day!/)
  step('passed; screenshot: target/e2e/chat.png')
} finally {
  server?.stop()
  await browser.close()
  await mock.close()
  rmSync(work, { recursive: true, force: true })
}
