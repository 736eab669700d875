'use strict'

const native = require('../index.js')
const { makeLiteLLMProvider } = require('./provider.js')
const { getProviderFromModel } = require('./models.js')
const { makeModelProvider, resolveModel } = require('./router.js')
const { createProvider } = require('./direct.js')
const { ProviderManager } = require('./manager.js')
const { normalizeParameters } = require('./parameters.js')
const { CAPABILITIES, FEATURES } = require('./capabilities.js')
const { SwitchyardError, ERROR_KINDS } = require('./errors.js')
const { zodToJsonSchema } = require('./zod-schema.js')

module.exports = {
  makeLiteLLMProvider,
  getProviderFromModel,
  makeModelProvider,
  resolveModel,
  createProvider,
  ProviderManager,
  normalizeParameters,
  CAPABILITIES,
  FEATURES,
  listProviders: native.listProviders,
  SwitchyardError,
  ERROR_KINDS,
  zodToJsonSchema,
  estimateCost: native.estimateCost,
}
