'use strict'

// Checks for every value a caller hands to a public entry point. A bad value is an
// `invalid_input` SwitchyardError naming its path and the type expected; messages name the type
// received, never the value, so nothing secret is echoed. Reading a field goes through `read`, so
// a throwing getter or Proxy trap rejects the call with the caller's error as `cause`.

const { types } = require('node:util')
const { SwitchyardError, invalidInput } = require('./errors.js')

/** Sizes past which a value is refused rather than sent (or left to block the event loop). */
const LIMITS = Object.freeze({
  headerCount: 100,
  headerNameBytes: 256,
  headerValueBytes: 16 * 1024,
  headersBytes: 64 * 1024,
  /** URLs, keys, model names, ids. */
  shortStringBytes: 64 * 1024,
  /** Nesting of a JSON request body. */
  depth: 64,
  /** A serialised request body. */
  bodyBytes: 64 * 1024 * 1024,
  arrayLength: 100_000,
})

/** What a value is, for messages: its type, never its contents. */
function typeOf(value) {
  try {
    if (value === null) return 'null'
    switch (typeof value) {
      case 'string':
        return 'a string'
      case 'number':
        return Number.isNaN(value) ? 'NaN' : Number.isFinite(value) ? 'a number' : 'an infinite number'
      case 'object':
        // util.types reads internal slots: no Proxy trap or getter runs.
        if (types.isProxy(value)) return Array.isArray(value) ? 'an array (a Proxy)' : 'an object (a Proxy)'
        if (Array.isArray(value)) return 'an array'
        if (types.isDate(value)) return 'a Date'
        if (types.isMap(value)) return 'a Map'
        if (types.isSet(value)) return 'a Set'
        if (types.isPromise(value)) return 'a Promise'
        return 'an object'
      case 'undefined':
        return 'undefined'
      default:
        return `a ${typeof value}`
    }
  } catch {
    return 'an unreadable object (a revoked Proxy?)'
  }
}

const fail = (path, expected, value, extra) => invalidInput(`${path} must be ${expected}, got ${typeOf(value)}`, extra)

/** `obj[key]`, with a throwing getter or Proxy trap reported as invalid input at `path`. */
function read(obj, key, path) {
  try {
    return obj[key]
  } catch (cause) {
    throw invalidInput(`${path} could not be read: reading it threw`, { cause })
  }
}

function isArray(value, path) {
  try {
    return Array.isArray(value)
  } catch (cause) {
    throw invalidInput(`${path} could not be read: it is a revoked Proxy`, { cause })
  }
}

const isObject = (value, path) => value !== null && typeof value === 'object' && !isArray(value, path)
const absent = (value) => value === undefined || value === null

function object(value, path) {
  if (!isObject(value, path)) throw fail(path, 'an object', value)
  return value
}

function optObject(value, path) {
  return absent(value) ? undefined : object(value, path)
}

// A header-safe string cannot smuggle a second header or truncate one in C code.
const UNSAFE_IN_HEADER = /[\r\n\0]/

function string(value, path, { maxBytes = LIMITS.shortStringBytes, nonEmpty = false, headerSafe = false } = {}) {
  if (typeof value !== 'string') throw fail(path, nonEmpty ? 'a non-empty string' : 'a string', value)
  if (nonEmpty && value.length === 0) throw invalidInput(`${path} must be a non-empty string, got an empty string`)
  if (value.length > maxBytes) throw invalidInput(`${path} is longer than ${maxBytes} characters (${value.length})`)
  if (headerSafe && UNSAFE_IN_HEADER.test(value)) throw invalidInput(`${path} contains CR, LF or NUL, which cannot go in an HTTP header`)
  return value
}

function optString(value, path, opts) {
  return absent(value) ? undefined : string(value, path, opts)
}

function optNumber(value, path, { min = -Infinity, max = Infinity, integer = false } = {}) {
  if (absent(value)) return undefined
  const expected = `${integer ? 'an integer' : 'a finite number'} from ${min} to ${max}`
  if (typeof value !== 'number' || !Number.isFinite(value)) throw fail(path, expected, value)
  if ((integer && !Number.isInteger(value)) || value < min || value > max) {
    throw invalidInput(`${path} must be ${expected}, got a number outside that`)
  }
  return value
}

function optBoolean(value, path) {
  if (absent(value)) return undefined
  if (typeof value !== 'boolean') throw fail(path, 'a boolean', value)
  return value
}

function optFunction(value, path) {
  if (absent(value)) return undefined
  if (typeof value !== 'function') throw fail(path, 'a function', value)
  return value
}

function array(value, path, maxLength = LIMITS.arrayLength) {
  if (!isArray(value, path)) throw fail(path, 'an array', value)
  const length = read(value, 'length', `${path}.length`)
  if (length > maxLength) throw invalidInput(`${path} has more than ${maxLength} items (${length})`)
  return value
}

/** `fn(item, itemPath, i)` for each item of a checked array, every read guarded. */
function mapArray(value, path, fn, maxLength) {
  array(value, path, maxLength)
  const length = read(value, 'length', `${path}.length`)
  const out = new Array(length)
  for (let i = 0; i < length; i++) out[i] = fn(read(value, i, `${path}[${i}]`), `${path}[${i}]`, i)
  return out
}

function optArray(value, path, maxLength) {
  return absent(value) ? undefined : array(value, path, maxLength)
}

function optOneOf(value, path, allowed) {
  if (absent(value)) return undefined
  if (!allowed.includes(value)) throw fail(path, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, value)
  return value
}

/** An `AbortSignal` (or anything shaped like one: `aborted` and `addEventListener`). */
function optSignal(value, path) {
  if (absent(value)) return undefined
  if (!isObject(value, path) || typeof read(value, 'addEventListener', path) !== 'function' || typeof read(value, 'aborted', path) !== 'boolean') {
    throw fail(path, 'an AbortSignal', value)
  }
  return value
}

function optHttpUrl(value, path) {
  if (absent(value)) return undefined
  string(value, path, { headerSafe: true })
  let url
  try {
    url = new URL(value)
  } catch {
    url = undefined
  }
  // The value may carry credentials (userinfo): the message never repeats it.
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') throw invalidInput(`${path} must be an absolute http(s) URL`)
  return value
}

/** Own enumerable `[key, value]` pairs of a plain object, through a throwing Proxy too. */
function entries(value, path, maxCount) {
  let keys
  try {
    keys = Object.keys(value)
  } catch (cause) {
    throw invalidInput(`${path} could not be read: listing its keys threw`, { cause })
  }
  if (keys.length > maxCount) throw invalidInput(`${path} has more than ${maxCount} entries (${keys.length})`)
  return keys.map((key) => [key, read(value, key, `${path}[${JSON.stringify(key)}]`)])
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/**
 * `{ name: value }` headers as `[{ name, value }]`; `null` removes a header. Names must be HTTP
 * tokens and values header-safe; count and size are bounded.
 */
function optHeaders(value, path) {
  if (absent(value)) return undefined
  object(value, path)
  let total = 0
  return entries(value, path, LIMITS.headerCount).map(([name, v]) => {
    if (name.length > LIMITS.headerNameBytes || !HEADER_NAME.test(name)) throw invalidInput(`${path} has a key that is not a valid HTTP header name`)
    const at = `${path}[${JSON.stringify(name)}]`
    if (absent(v)) return { name, value: undefined }
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw fail(at, 'a string, a number, a boolean or null', v)
    const text = string(String(v), at, { maxBytes: LIMITS.headerValueBytes, headerSafe: true })
    total += name.length + text.length
    if (total > LIMITS.headersBytes) throw invalidInput(`${path} are larger than ${LIMITS.headersBytes} bytes in all`)
    return { name, value: text }
  })
}

/**
 * Whether `value` can go on the wire as JSON: plain data (objects, arrays, strings, finite
 * numbers, booleans, null; Dates and other `toJSON` values too) no deeper than `LIMITS.depth`,
 * with no cycle. Walks iteratively, so depth never overflows the stack.
 */
function jsonValue(value, path) {
  const stack = [[value, path, 0]]
  const ancestors = []
  while (stack.length > 0) {
    const [v, at, depth] = stack.pop()
    if (v === null || typeof v === 'string' || typeof v === 'boolean') continue
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw fail(at, 'a finite number (JSON has no NaN or Infinity)', v)
      continue
    }
    if (typeof v !== 'object') throw fail(at, 'JSON data', v)
    if (depth > LIMITS.depth) throw invalidInput(`${at} nests deeper than ${LIMITS.depth} levels`)
    ancestors.length = depth
    if (ancestors.includes(v)) throw invalidInput(`${at} refers back to an enclosing value (a cycle)`)
    ancestors[depth] = v
    if (typeof read(v, 'toJSON', at) === 'function') continue
    if (isArray(v, at)) {
      const length = read(v, 'length', `${at}.length`)
      if (length > LIMITS.arrayLength) throw invalidInput(`${at} has more than ${LIMITS.arrayLength} items`)
      for (let i = length - 1; i >= 0; i--) stack.push([read(v, i, at), `${at}[${i}]`, depth + 1])
    } else {
      for (const [key, child] of entries(v, at, LIMITS.arrayLength)) {
        if (child !== undefined && typeof child !== 'function') stack.push([child, `${at}.${key}`, depth + 1])
      }
    }
  }
  return value
}

/** `JSON.stringify(value)` of a checked value, bounded in size. */
function jsonText(value, path) {
  return checkedJsonText(jsonValue(value, path), path)
}

/** `JSON.stringify(value)` of a value `jsonValue` already checked (or built from checked parts). */
function checkedJsonText(value, path) {
  let text
  try {
    text = JSON.stringify(value)
  } catch (cause) {
    // A user's toJSON threw, or the text would be too long for a string.
    throw invalidInput(`${path} could not be serialised as JSON`, { cause })
  }
  return bodyText(text, path)
}

function bodyText(text, path) {
  if (text.length > LIMITS.bodyBytes) throw invalidInput(`${path} is larger than ${LIMITS.bodyBytes} bytes as JSON`)
  return text
}

/** Calls a user callback; what it throws rejects the call as invalid input with it as `cause`. */
function callUser(fn, args, path) {
  try {
    return fn(...args)
  } catch (cause) {
    if (cause instanceof SwitchyardError) throw cause
    throw invalidInput(`${path} threw`, { cause })
  }
}

/** A callback's returned promise is observed, so its rejection can never go unhandled. */
function observe(value, onRejected) {
  if (value !== null && (typeof value === 'object' || typeof value === 'function')) {
    let then
    try {
      then = value.then
    } catch {
      return
    }
    if (typeof then === 'function') Promise.resolve(value).then(undefined, onRejected)
  }
}

/**
 * Any error that is not ours, raised while handling bad input inside our own code, as a typed
 * error. Its message keeps the error's class only: built-in messages can quote values.
 */
function typed(err, where) {
  if (err instanceof SwitchyardError) return err
  const name = typeof err?.name === 'string' && /^\w{1,40}$/.test(err.name) ? err.name : 'error'
  return new SwitchyardError({ kind: 'internal', message: `${where} failed unexpectedly (${name})` })
}

/**
 * Wraps every method of `face` (an object or a prototype) so whatever it raises, as a sync
 * throw, a rejection or from a stream, is typed.
 */
function typedMethods(face, where) {
  for (const name of Object.getOwnPropertyNames(face)) {
    const fn = face[name]
    if (name === 'constructor' || typeof fn !== 'function') continue
    const at = `${where}.${name}`
    face[name] =
      fn.constructor.name === 'AsyncGeneratorFunction'
        ? async function* (...args) {
          try {
            return yield* fn.apply(this, args)
          } catch (err) {
            throw typed(err, at)
          }
        }
        : function (...args) {
          try {
            const out = fn.apply(this, args)
            return typeof out?.then === 'function' ? out.then(undefined, (err) => Promise.reject(typed(err, at))) : out
          } catch (err) {
            throw typed(err, at)
          }
        }
  }
  return face
}

module.exports = {
  typedMethods,
  mapArray,
  observe,
  LIMITS,
  typeOf,
  read,
  object,
  optObject,
  string,
  optString,
  optNumber,
  optBoolean,
  optFunction,
  array,
  optArray,
  optOneOf,
  optSignal,
  optHttpUrl,
  optHeaders,
  entries,
  jsonValue,
  checkedJsonText,
  jsonText,
  bodyText,
  callUser,
  typed,
  isObject,
}
