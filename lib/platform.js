'use strict'

/** This platform as napi-rs names its addons: `linux-x64-gnu`, `darwin-arm64`, `win32-x64-msvc`, … */
function platformTarget() {
  if (process.platform === 'win32') return `win32-${process.arch}-msvc`
  if (process.platform !== 'linux') return `${process.platform}-${process.arch}`
  const glibc = process.report?.getReport?.().header?.glibcVersionRuntime
  return `${process.platform}-${process.arch}-${glibc ? 'gnu' : 'musl'}`
}

module.exports = { platformTarget }
