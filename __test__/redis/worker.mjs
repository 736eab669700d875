// One process of a multi-process Redis test: builds a router from the config it is given, then
// runs the batches of calls the parent asks for and answers with what happened.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { makeRouter } = require('../../lib/index.js')

const config = JSON.parse(process.env.SWITCHYARD_TEST_ROUTER_CONFIG)
const events = []
const router = makeRouter(config, { onEvent: (e) => events.push(e) })

async function call(request, options) {
  const started = performance.now()
  try {
    const answer = await router.complete(request, options)
    return { ok: true, content: answer.choices[0].message.content, ms: performance.now() - started }
  } catch (err) {
    return { ok: false, kind: err.kind, message: err.message, ms: performance.now() - started }
  }
}

// A task: `count` calls of `request`, `concurrency` at a time, each lane pausing `pauseMs`
// between calls; with `vary`, each call's question is made distinct.
process.on('message', async (task) => {
  if (task.type === 'exit') return process.exit(0)
  if (task.type === 'stats') return process.send({ id: task.id, stats: router.stats() })
  const results = []
  let next = 0
  const lane = async () => {
    while (next < task.count) {
      const i = next++
      const request = task.vary ? { ...task.request, messages: [{ role: 'user', content: `question ${task.vary}-${i}` }] } : task.request
      results[i] = await call(request, task.options)
      if (task.pauseMs) await new Promise((r) => setTimeout(r, task.pauseMs))
    }
  }
  await Promise.all(Array.from({ length: task.concurrency ?? 1 }, lane))
  process.send({ id: task.id, results, events: events.splice(0) })
})
process.send({ ready: true })
