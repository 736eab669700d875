'use strict'

const native = require('../index.js')
const { makeLiteLLMProvider } = require('./provider.js')
const { getProviderFromModel } = require('./models.js')
const { makeModelProvider, resolveModel } = require('./router.js')
const { createProvider } = require('./direct.js')
const { SwitchyardError, ERROR_KINDS } = require('./errors.js')
const { zodToJsonSchema } = require('./zod-schema.js')

module.exports = {
  makeLiteLLMProvider,
  getProviderFromModel,
  makeModelProvider,
  resolveModel,
  createProvider,
  listProviders: native.listProviders,
  SwitchyardError,
  ERROR_KINDS,
  zodToJsonSchema,
  estimateCost: native.estimateCost,
}
