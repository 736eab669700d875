'use strict'

// Provider names people use (`claude`, `llama.cpp`, `grok`), mapped to provider ids by the
// core's one registry.

const native = require('./native.js')
const v = require('./validate.js')

/** A provider id from a name or alias (case-insensitive), or an `invalid_input` error. */
function providerId(name) {
  v.string(name, 'provider name', { nonEmpty: true, maxBytes: 256 })
  return native.providerId(name)
}

module.exports = { providerId }
