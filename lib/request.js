'use strict'

// Builds the OpenAI chat-completions request JAF's own provider sends for (state, agent, config),
// field for field, so swapping the import changes nothing upstream. Work that depends only on
// the agent (tool schemas, response_format) is cached per agent object.

const { invalidInput } = require('./errors.js')
const { zodToJsonSchema, toResponseFormat } = require('./zod-schema.js')
const { documentPart } = require('./documents.js')
const v = require('./validate.js')

// JAF's messages name the unknown role or part type; a value that could be anything else (a key
// pasted in the wrong field) is named by its type only.
const word = (value) => (typeof value === 'string' && /^[a-z_]{1,20}$/.test(value) ? value : v.typeOf(value))
const ATTACHMENT_KINDS = ['image', 'document', 'file']

/** JAF's `getTextContent`: text parts joined by a space; null becomes ''. */
function textOf(content, path) {
  if (typeof content === 'string') return content
  if (content === null || content === undefined) return ''
  if (v.isObject(content, path)) {
    // JAF reads `{ text }` or `{ content }` objects too.
    const text = v.read(content, 'text', `${path}.text`) || v.read(content, 'content', `${path}.content`) || ''
    return v.string(text, `${path}.text`)
  }
  if (!Array.isArray(content)) throw invalidInput(`${path} must be a string, an array of content parts or null, got ${v.typeOf(content)}`)
  const texts = v.mapArray(content, path, (item, at) =>
    v.isObject(item, at) && v.read(item, 'type', `${at}.type`) === 'text' ? v.optString(v.read(item, 'text', `${at}.text`), `${at}.text`) || '' : undefined,
  )
  return texts.filter((t) => t !== undefined).join(' ')
}

function contentPart(part, path) {
  v.object(part, path)
  const field = (obj, key, at) => v.read(obj, key, `${at}.${key}`)
  switch (field(part, 'type', path)) {
    case 'text':
      return { type: 'text', text: v.string(field(part, 'text', path), `${path}.text`) }
    case 'image_url': {
      const image = v.object(field(part, 'image_url', path), `${path}.image_url`)
      const at = `${path}.image_url`
      return {
        type: 'image_url',
        image_url: { url: v.string(field(image, 'url', at), `${at}.url`), detail: v.optOneOf(field(image, 'detail', at), `${at}.detail`, ['low', 'high', 'auto']) },
      }
    }
    case 'file': {
      const file = v.object(field(part, 'file', path), `${path}.file`)
      const at = `${path}.file`
      return { type: 'file', file: { file_id: v.string(field(file, 'file_id', at), `${at}.file_id`), format: v.optString(field(file, 'format', at), `${at}.format`) } }
    }
    default:
      throw invalidInput(`Unknown content part type: ${word(v.read(part, 'type', `${path}.type`))}`, { path: `${path}.type` })
  }
}

/** An attachment's fields, checked and copied. */
function attachmentOf(att, path) {
  v.object(att, path)
  const str = (key) => v.optString(v.read(att, key, `${path}.${key}`), `${path}.${key}`, { maxBytes: v.LIMITS.bodyBytes })
  const kind = v.read(att, 'kind', `${path}.kind`)
  if (!ATTACHMENT_KINDS.includes(kind)) throw invalidInput(`${path}.kind must be one of "image", "document", "file", got ${v.typeOf(kind)}`)
  return { kind, mimeType: str('mimeType'), name: str('name'), url: str('url'), data: str('data'), format: str('format') }
}

async function userMessageWithAttachments(text, attachments) {
  const parts = []
  if (text && text.trim().length > 0) parts.push({ type: 'text', text })
  for (const att of attachments) {
    if (att.kind === 'image') {
      // An explicit URL wins over inline data; an image with neither a URL nor a MIME type is skipped.
      const url = att.url ? att.url : att.data && att.mimeType ? `data:${att.mimeType};base64,${att.data}` : undefined
      if (url) parts.push({ type: 'image_url', image_url: { url } })
    } else {
      parts.push(await documentPart(att))
    }
  }
  return { role: 'user', content: parts }
}

/** JAF tool calls, checked and copied: `[{ id, type: 'function', function: { name, arguments } }]`. */
function toolCallsOf(calls, path) {
  if (v.optArray(calls, path) === undefined) return undefined
  return v.mapArray(calls, path, (item, at) => {
    const call = v.object(item, at)
    const fn = v.object(v.read(call, 'function', `${at}.function`), `${at}.function`)
    return {
      id: v.string(v.read(call, 'id', `${at}.id`), `${at}.id`),
      type: v.optOneOf(v.read(call, 'type', `${at}.type`), `${at}.type`, ['function']) ?? 'function',
      function: {
        name: v.string(v.read(fn, 'name', `${at}.function.name`), `${at}.function.name`),
        arguments: v.string(v.read(fn, 'arguments', `${at}.function.arguments`), `${at}.function.arguments`, { maxBytes: v.LIMITS.bodyBytes }),
      },
    }
  })
}

/** One JAF message as chat completions wants it; a Promise only when attachments need work. */
function convertMessage(msg, path) {
  v.object(msg, path)
  const field = (key) => v.read(msg, key, `${path}.${key}`)
  const content = field('content')
  switch (field('role')) {
    case 'user': {
      if (v.isObject(content, `${path}.content`) || typeof content === 'string' || content === null || content === undefined) {
        const attachments = v.optArray(field('attachments'), `${path}.attachments`)
        const text = textOf(content, `${path}.content`)
        const checked = attachments && v.mapArray(attachments, `${path}.attachments`, attachmentOf)
        return checked?.length > 0 ? userMessageWithAttachments(text, checked) : { role: 'user', content: text }
      }
      return { role: 'user', content: v.mapArray(content, `${path}.content`, contentPart) }
    }
    case 'assistant':
      return { role: 'assistant', content: textOf(content, `${path}.content`), tool_calls: toolCallsOf(field('tool_calls'), `${path}.tool_calls`) }
    case 'tool':
      return {
        role: 'tool',
        content: textOf(content, `${path}.content`),
        tool_call_id: v.optString(field('tool_call_id'), `${path}.tool_call_id`),
      }
    default:
      // JAF's own message, word for word; `path` says where.
      throw invalidInput(`Unknown message role: ${word(field('role'))}`, { path: `${path}.role` })
  }
}

/**
 * The error for an `instructions()` that returned no string. JAF's instructions are synchronous;
 * an async one that already failed reports its own error as the cause, and none is left to
 * reject unhandled.
 */
async function refusedInstructions(value) {
  const refused = (cause) => invalidInput(`agent.instructions(state) must return a string, got ${v.typeOf(value)}`, cause === undefined ? {} : { cause })
  let then
  try {
    then = value !== null && (typeof value === 'object' || typeof value === 'function') ? value.then : undefined
  } catch (cause) {
    return refused(cause)
  }
  if (typeof then !== 'function') return refused()
  const settled = Promise.resolve(value).then(
    () => undefined,
    (cause) => cause,
  )
  // Whatever settles before the next turn of the event loop is known now; the rest is observed.
  return refused(await Promise.race([settled, new Promise((r) => setImmediate(r))]))
}

const toolsByList = new WeakMap()

/** Schema conversion over user objects: anything it trips on is the tool's fault, not a crash. */
function converted(fn, path) {
  try {
    return fn()
  } catch (cause) {
    if (cause?.kind) throw cause
    throw invalidInput(`${path} is not a zod schema Switchyard can read`, { cause })
  }
}

function toolsOf(tools) {
  if (v.optArray(tools, 'agent.tools', 1024) === undefined) return undefined
  let out = toolsByList.get(tools)
  if (!out) {
    out = v.mapArray(tools, 'agent.tools', (item, at) => {
      const tool = v.object(item, at)
      const schema = v.object(v.read(tool, 'schema', `${at}.schema`), `${at}.schema`)
      const name = v.string(v.read(schema, 'name', `${at}.schema.name`), `${at}.schema.name`, { nonEmpty: true })
      const parameters = v.read(schema, 'parameters', `${at}.schema.parameters`)
      return {
        type: 'function',
        function: {
          name,
          description: v.optString(v.read(schema, 'description', `${at}.schema.description`), `${at}.schema.description`),
          parameters: converted(() => zodToJsonSchema(parameters, `tool "${name}" parameter schema`), `${at}.schema.parameters`),
        },
      }
    })
    toolsByList.set(tools, out)
  }
  return out.length > 0 ? out : undefined
}

function modelConfigOf(agent) {
  const config = v.optObject(v.read(agent, 'modelConfig', 'agent.modelConfig'), 'agent.modelConfig')
  if (!config) return {}
  const field = (key) => v.read(config, key, `agent.modelConfig.${key}`)
  const reasoning = v.optObject(field('reasoning'), 'agent.modelConfig.reasoning')
  return {
    name: v.optString(field('name'), 'agent.modelConfig.name'),
    temperature: v.optNumber(field('temperature'), 'agent.modelConfig.temperature', { min: 0, max: 2 }),
    maxTokens: v.optNumber(field('maxTokens'), 'agent.modelConfig.maxTokens', { min: 1, max: 2 ** 31 - 1, integer: true }),
    effort: reasoning && v.optString(v.read(reasoning, 'effort', 'agent.modelConfig.reasoning.effort'), 'agent.modelConfig.reasoning.effort'),
  }
}

/**
 * The chat-completions request for one JAF turn: `{ model, params, signal }`, every field it
 * reads checked; `defaults` (`model`, `temperature`, `maxTokens`) fill what the agent leaves unset. Throws `invalid_input` for what JAF would also refuse (no model, unknown role or
 * part type) and for any value of the wrong type; a throwing `instructions()` is the cause.
 */
async function buildChatRequest(state, agent, config, defaults = {}) {
  v.object(state, 'state')
  v.object(agent, 'agent')
  v.optObject(config, 'config')
  const agentName = v.optString(v.read(agent, 'name', 'agent.name'), 'agent.name')
  const modelConfig = modelConfigOf(agent)
  const modelOverride = config && v.optString(v.read(config, 'modelOverride', 'config.modelOverride'), 'config.modelOverride')
  const signal = config && v.optSignal(v.read(config, 'signal', 'config.signal'), 'config.signal')
  const model = modelConfig.name ?? modelOverride ?? defaults.model
  // JAF's message, word for word.
  if (!model) throw invalidInput(`Model not specified for agent ${agentName}`)
  const stateMessages = v.array(v.read(state, 'messages', 'state.messages'), 'state.messages')
  const instructions = v.read(agent, 'instructions', 'agent.instructions')
  if (typeof instructions !== 'function') throw invalidInput(`agent.instructions must be a function, got ${v.typeOf(instructions)}`)
  const system = v.callUser(instructions, [state], 'agent.instructions(state)')
  if (typeof system !== 'string') throw await refusedInstructions(system)
  const chat = v.mapArray(stateMessages, 'state.messages', convertMessage)
  const pending = chat.some((m) => typeof m.then === 'function')
  const lastRole = chat.length === 0 ? undefined : (chat[chat.length - 1].role ?? 'user')
  const messages = [{ role: 'system', content: system }, ...chat]
  const resolved = pending ? await Promise.all(messages) : messages
  const tools = toolsOf(v.read(agent, 'tools', 'agent.tools'))
  const outputCodec = v.read(agent, 'outputCodec', 'agent.outputCodec')
  const params = {
    model,
    messages: resolved,
    temperature: modelConfig.temperature ?? defaults.temperature,
    max_tokens: modelConfig.maxTokens ?? defaults.maxTokens,
    tools,
    tool_choice: tools && lastRole === 'tool' ? 'auto' : undefined,
    response_format: converted(() => toResponseFormat(outputCodec, agentName), 'agent.outputCodec'),
  }
  if (modelConfig.effort) params.reasoning_effort = modelConfig.effort
  return { model, params, signal }
}

module.exports = { buildChatRequest }
