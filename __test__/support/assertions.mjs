// Assertion helpers shared by the Node suites.
import assert from 'node:assert/strict'
import util from 'node:util'
import { createRequire } from 'node:module'

const { SwitchyardError } = createRequire(import.meta.url)('../../lib/index.js')

/** Resolves to the rejection of `promise`; fails the test when it resolves. */
export async function rejection(promise) {
  try {
    const value = await promise
    assert.fail(`expected a rejection, got ${util.inspect(value, { depth: 3 })}`)
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err
    return err
  }
}

/** Returns what `fn` throws; fails the test when it returns. */
export function throwsSync(fn) {
  try {
    const value = fn()
    assert.fail(`expected a throw, got ${util.inspect(value, { depth: 3 })}`)
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err
    return err
  }
}

export function assertSwitchyard(err, kind) {
  assert.ok(err instanceof SwitchyardError, `not a SwitchyardError: ${util.inspect(err)}`)
  assert.equal(err.kind, kind, `kind: ${err.kind} (${err.message})`)
}
