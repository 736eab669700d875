'use strict'

const { scrub } = require('./secrets.js')

/**
 * The stable classification every Switchyard error carries in `kind`: defined once, in the core.
 * Asking the core at load would load the addon (and start its threads), so this read-only array
 * is filled on first touch.
 */
const kinds = []
function filled() {
  if (Object.isExtensible(kinds)) {
    kinds.push(...require('./binding.js').errorKinds())
    Object.freeze(kinds)
  }
  return kinds
}
const ERROR_KINDS = new Proxy(
  kinds,
  Object.fromEntries(
    ['get', 'has', 'ownKeys', 'getOwnPropertyDescriptor', 'set', 'defineProperty', 'deleteProperty', 'isExtensible', 'preventExtensions'].map(
      (trap) => [trap, (_, ...args) => Reflect[trap](filled(), ...args)],
    ),
  ),
)

// Class names the `openai` SDK gives the same failures, so `err.name` reads the same to JAF users.
const SDK_NAMES_BY_STATUS = {
  400: 'BadRequestError',
  401: 'AuthenticationError',
  403: 'PermissionDeniedError',
  404: 'NotFoundError',
  409: 'ConflictError',
  422: 'UnprocessableEntityError',
  429: 'RateLimitError',
}

function sdkName(status, kind) {
  if (status !== undefined) return SDK_NAMES_BY_STATUS[status] ?? (status >= 500 ? 'InternalServerError' : 'APIError')
  if (kind === 'timeout') return 'APIConnectionTimeoutError'
  if (kind === 'network') return 'APIConnectionError'
  if (kind === 'aborted') return 'APIUserAbortError'
  return 'SwitchyardError'
}

/**
 * A failed call. Upstream HTTP failures keep the `openai` SDK's fields (`status`, `error`, `code`,
 * `type`, `param`, `headers`) and message format; every error adds `kind`, `retryable`, `provider`
 * and `model`.
 */
class SwitchyardError extends Error {
  constructor(raw) {
    // Nothing Switchyard raises may carry a credential, whoever wrote the text.
    const { cause, ...rest } = raw
    const fields = scrub(rest)
    super(fields.message, cause === undefined ? undefined : { cause })
    this.name = sdkName(fields.status, fields.kind)
    this.kind = fields.kind
    this.retryable = fields.retryable ?? false
    this.status = fields.status
    this.headers = fields.headers
    this.error = fields.error
    this.code = fields.code ?? fields.error?.code ?? undefined
    this.type = fields.type ?? fields.error?.type ?? undefined
    this.param = fields.param ?? fields.error?.param ?? undefined
    this.request_id = fields.headers?.['x-request-id']
    this.provider = fields.provider
    this.model = fields.model
    if (fields.path !== undefined) this.path = fields.path
    if (fields.body !== undefined) this.body = fields.body
    if (fields.retryAfter !== undefined) this.retryAfter = fields.retryAfter
    if (fields.delivered !== undefined) this.delivered = fields.delivered
    if (fields.events !== undefined && fields.events !== null) this.events = fields.events
    if (fields.usage !== undefined) this.usage = fields.usage
    if (fields.rule !== undefined && fields.rule !== null) this.rule = fields.rule
  }
}

/** A caller mistake caught before anything was sent. */
function invalidInput(message, extra = {}) {
  return new SwitchyardError({ kind: 'invalid_input', message, ...extra })
}

module.exports = { SwitchyardError, ERROR_KINDS, invalidInput }
