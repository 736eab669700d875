'use client'

// The chat page: POSTs to /api/chat and renders the SSE events as they arrive.
import { useRef, useState, type FormEvent } from 'react'

type Item = { kind: 'user' | 'assistant' | 'tool'; text: string }
type ServerEvent =
  | { type: 'token'; text: string }
  | { type: 'tool_call'; name: string; args: unknown }
  | { type: 'tool_result'; name: string; result: string }
  | { type: 'end'; status: string }

/** Complete SSE events in `buffer`, and what is left of it. */
function takeEvents(buffer: string): [Array<{ event: string; data: unknown }>, string] {
  const blocks = buffer.split('\n\n')
  const rest = blocks.pop() ?? ''
  const events = blocks
    .filter((b) => !b.startsWith(':'))
    .map((b) => ({ event: /^event: (.*)$/m.exec(b)?.[1] ?? 'message', data: JSON.parse(/^data: (.*)$/m.exec(b)?.[1] ?? 'null') }))
  return [events, rest]
}

export default function Chat() {
  const [items, setItems] = useState<Item[]>([])
  const [status, setStatus] = useState('idle')
  const [input, setInput] = useState('What is the weather in Paris?')
  const abort = useRef<AbortController | null>(null)

  const append = (item: Item) => setItems((all) => [...all, item])
  const appendToken = (text: string) =>
    setItems((all) => {
      const last = all[all.length - 1]
      return last?.kind === 'assistant' ? [...all.slice(0, -1), { ...last, text: last.text + text }] : [...all, { kind: 'assistant', text }]
    })

  async function send(e: FormEvent) {
    e.preventDefault()
    const controller = new AbortController()
    abort.current = controller
    append({ kind: 'user', text: input })
    setStatus('streaming')
    try {
      const res = await fetch('/api/chat', { method: 'POST', body: JSON.stringify({ message: input }), signal: controller.signal })
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`)
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
      let buffer = ''
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        const [events, rest] = takeEvents(buffer + r.value)
        buffer = rest
        for (const { event, data } of events) {
          if (event === 'error') throw new Error((data as { message: string }).message)
          if (event === 'done') continue
          const ev = data as ServerEvent
          if (ev.type === 'token') appendToken(ev.text)
          else if (ev.type === 'tool_call') append({ kind: 'tool', text: `→ ${ev.name}(${JSON.stringify(ev.args)})` })
          else if (ev.type === 'tool_result') append({ kind: 'tool', text: `← ${ev.name}: ${ev.result}` })
        }
      }
      setStatus('done')
    } catch (err) {
      setStatus(controller.signal.aborted ? 'stopped' : `error: ${(err as Error).message}`)
    }
  }

  return (
    <main>
      <h1>Switchyard × JAF</h1>
      <ul data-testid="messages" style={{ listStyle: 'none', padding: 0 }}>
        {items.map((item, i) => (
          <li key={i} data-testid={`msg-${item.kind}`} style={{ margin: '0.5rem 0', color: item.kind === 'tool' ? '#666' : undefined }}>
            <b>{item.kind}:</b> {item.text}
          </li>
        ))}
      </ul>
      <form onSubmit={send} style={{ display: 'flex', gap: '0.5rem' }}>
        <input data-testid="input" value={input} onChange={(e) => setInput(e.target.value)} style={{ flex: 1 }} />
        <button data-testid="send" type="submit" disabled={status === 'streaming'}>
          Send
        </button>
        <button data-testid="stop" type="button" onClick={() => abort.current?.abort()} disabled={status !== 'streaming'}>
          Stop
        </button>
      </form>
      <p data-testid="status">{status}</p>
    </main>
  )
}
