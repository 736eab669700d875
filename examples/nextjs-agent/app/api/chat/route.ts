// POST /api/chat: runs the agent and streams its tokens and tool events as SSE.
import { runStream, type TraceEvent } from '@xynehq/jaf'
import { toSSEResponse } from 'switchyard-llm'
import { agent, initialState, providerFor } from '../../../lib/agent'

// A native addon needs the Node.js runtime; never prerender this route.
export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

export async function POST(request: Request): Promise<Response> {
  const { message } = (await request.json()) as { message?: unknown }
  if (typeof message !== 'string' || !message.trim()) return Response.json({ error: 'message must be a non-empty string' }, { status: 400 })

  // JAF reports the text so far on every chunk: send only what is new.
  let shown = ''
  const toClient = (event: TraceEvent) => {
    switch (event.type) {
      case 'assistant_message': {
        const text = typeof event.data.message.content === 'string' ? event.data.message.content : ''
        const delta = text.startsWith(shown) ? text.slice(shown.length) : text
        shown = text
        return delta ? { type: 'token', text: delta } : undefined
      }
      case 'tool_call_start':
        shown = ''
        return { type: 'tool_call', name: event.data.toolName, args: event.data.args }
      case 'tool_call_end':
        return { type: 'tool_result', name: event.data.toolName, result: event.data.result }
      case 'run_end':
        return { type: 'end', status: event.data.outcome.status }
      default:
        return undefined
    }
  }

  return toSSEResponse(
    async (signal) =>
      runStream(initialState(message), {
        agentRegistry: new Map([[agent.name, agent]]),
        modelProvider: await providerFor(signal),
        maxTurns: 4,
      }),
    { signal: request.signal, map: toClient },
  )
}
