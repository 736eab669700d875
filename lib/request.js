'use strict'

// Builds the OpenAI chat-completions request JAF's own provider sends for (state, agent, config),
// field for field, so swapping the import changes nothing upstream. Work that depends only on
// the agent (tool schemas, response_format) is cached per agent object.

const { invalidInput } = require('./errors.js')
const { zodToJsonSchema, toResponseFormat } = require('./zod-schema.js')
const { documentPart } = require('./documents.js')

/** JAF's `getTextContent`: text parts joined by a space; null becomes ''. */
function textOf(content) {
  if (typeof content === 'string') return content
  if (Array.isArray(content)) {
    return content
      .filter((item) => item && typeof item === 'object' && item.type === 'text')
      .map((item) => item.text || '')
      .join(' ')
  }
  if (content && typeof content === 'object') return content.text || content.content || ''
  return String(content || '')
}

function contentPart(part) {
  switch (part?.type) {
    case 'text':
      return { type: 'text', text: part.text }
    case 'image_url':
      return { type: 'image_url', image_url: { url: part.image_url.url, detail: part.image_url.detail } }
    case 'file':
      return { type: 'file', file: { file_id: part.file.file_id, format: part.file.format } }
    default:
      throw invalidInput(`Unknown content part type: ${part?.type}`)
  }
}

const hasAttachments = (msg) => Array.isArray(msg.attachments) && msg.attachments.length > 0

async function userMessageWithAttachments(msg) {
  const parts = []
  const text = textOf(msg.content)
  if (text && text.trim().length > 0) parts.push({ type: 'text', text })
  for (const att of msg.attachments) {
    if (att.kind === 'image') {
      // An explicit URL wins over inline data; an image with neither a URL nor a MIME type is skipped.
      const url = att.url ? att.url : att.data && att.mimeType ? `data:${att.mimeType};base64,${att.data}` : undefined
      if (url) parts.push({ type: 'image_url', image_url: { url } })
    } else if (att.kind === 'document' || att.kind === 'file') {
      parts.push(await documentPart(att))
    }
  }
  return { role: 'user', content: parts }
}

/** One JAF message as chat completions wants it; a Promise only when attachments need work. */
function convertMessage(msg) {
  switch (msg.role) {
    case 'user':
      if (Array.isArray(msg.content)) return { role: 'user', content: msg.content.map(contentPart) }
      return hasAttachments(msg) ? userMessageWithAttachments(msg) : { role: 'user', content: textOf(msg.content) }
    case 'assistant':
      return { role: 'assistant', content: textOf(msg.content), tool_calls: msg.tool_calls }
    case 'tool':
      return { role: 'tool', content: textOf(msg.content), tool_call_id: msg.tool_call_id }
    default:
      throw invalidInput(`Unknown message role: ${msg.role}`)
  }
}

const toolsByList = new WeakMap()

function toolsOf(tools) {
  if (!tools || tools.length === 0) return undefined
  let converted = toolsByList.get(tools)
  if (!converted) {
    converted = tools.map((t) => ({
      type: 'function',
      function: {
        name: t.schema.name,
        description: t.schema.description,
        parameters: zodToJsonSchema(t.schema.parameters, `tool "${t.schema.name}" parameter schema`),
      },
    }))
    toolsByList.set(tools, converted)
  }
  return converted
}

/**
 * The chat-completions request for one JAF turn: `{ model, params }`.
 * Throws `invalid_input` for what JAF would also refuse (no model, unknown role or part type).
 */
async function buildChatRequest(state, agent, config) {
  const model = agent.modelConfig?.name ?? config?.modelOverride
  if (!model) throw invalidInput(`Model not specified for agent ${agent.name}`)
  const messages = [{ role: 'system', content: agent.instructions(state) }]
  let pending = false
  for (const msg of state.messages) {
    const converted = convertMessage(msg)
    pending ||= typeof converted.then === 'function'
    messages.push(converted)
  }
  const resolved = pending ? await Promise.all(messages) : messages
  const tools = toolsOf(agent.tools)
  const lastMessage = state.messages[state.messages.length - 1]
  const params = {
    model,
    messages: resolved,
    temperature: agent.modelConfig?.temperature,
    max_tokens: agent.modelConfig?.maxTokens,
    tools,
    tool_choice: tools && lastMessage?.role === 'tool' ? 'auto' : undefined,
    response_format: toResponseFormat(agent.outputCodec, agent.name),
  }
  const effort = agent.modelConfig?.reasoning?.effort
  if (effort) params.reasoning_effort = effort
  return { model, params }
}

module.exports = { buildChatRequest }
