'use strict'

// Document attachments become text parts, as in JAF: plain text, CSV and JSON are handled here;
// PDF, Word, Excel and ZIP need JAF's own extractors (pdf-parse, mammoth, xlsx, yauzl), which
// are loaded from an installed `@xynehq/jaf` when one is there.

const fs = require('node:fs')
const path = require('node:path')

const FETCH_TIMEOUT_MS = 30_000
const MAX_DOCUMENT_BYTES = 25 * 1024 * 1024
const MAX_CSV_PREVIEW_ROWS = 10

const DESCRIPTIONS = {
  'application/pdf': 'PDF text content',
  'text/plain': 'plain text content',
  'text/csv': 'CSV data structure and sample rows',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'Excel spreadsheet data',
  'application/vnd.ms-excel': 'Excel spreadsheet data',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'Word document text content',
  'application/json': 'JSON data structure',
  'application/zip': 'ZIP file listing',
}

const isDocumentSupported = (mimeType) => !!mimeType && mimeType.toLowerCase() in DESCRIPTIONS

async function fetchDocument(url) {
  try {
    const response = await fetch(url, {
      headers: { 'User-Agent': 'JAF-DocumentProcessor/1.0' },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    })
    if (!response.ok) throw new Error(`HTTP ${response.status}: ${response.statusText}`)
    const buffer = Buffer.from(await response.arrayBuffer())
    if (buffer.length > MAX_DOCUMENT_BYTES) {
      const mb = (n) => Math.round(n / 1024 / 1024)
      throw new Error(`File size (${mb(buffer.length)}MB) exceeds maximum allowed size (${mb(MAX_DOCUMENT_BYTES)}MB)`)
    }
    return { buffer, contentType: response.headers.get('content-type') ?? undefined }
  } catch (error) {
    throw new Error(`Failed to fetch URL content: ${reasonOf(error)}`)
  }
}

function csvSummary(content) {
  // papaparse, as JAF uses it: it guesses the delimiter, renames duplicate headers and treats
  // stray quotes and line endings its own way, and the summary must read the same.
  const Papa = require('papaparse')
  try {
    const parsed = Papa.parse(content, { header: true, skipEmptyLines: true })
    const fields = parsed.meta.fields
    return (
      `CSV File Content:\nRows: ${parsed.data.length}, Columns: ${fields?.length || 0}\n` +
      `Columns: ${fields?.join(', ') || 'N/A'}\n\n` +
      `First few rows:\n${content.split('\n').slice(0, MAX_CSV_PREVIEW_ROWS).join('\n')}`
    )
  } catch {
    return content
  }
}

function jsonText(buffer) {
  const text = buffer.toString('utf-8')
  try {
    return `JSON File Content:\n${JSON.stringify(JSON.parse(text), null, 2)}`
  } catch {
    return text.trim()
  }
}

// Errors can come from another realm (jest runs tests in a VM context): read what they say
// rather than trusting `instanceof Error`.
const reasonOf = (error) => (typeof error?.message === 'string' && error.message ? error.message : String(error))

let jafProcessor
/**
 * JAF's document processor from an installed `@xynehq/jaf`, or null. It is an ES module, which
 * Node's require() loads (Node 20.19+, 22.12+). Loaded through Node's own loader (Module._load;
 * jest's sandboxed `module` copies it through), so that under jest it and pdf.js run in Node's
 * realm: jest's VM refuses the import() pdf.js makes.
 */
function loadJafProcessor() {
  if (jafProcessor !== undefined) return jafProcessor
  const rel = path.join('@xynehq', 'jaf', 'dist', 'utils', 'document-processor.js')
  const dirs = [...(require.main?.paths ?? []), ...module.paths, path.join(process.cwd(), 'node_modules')]
  const file = dirs.map((d) => path.join(d, rel)).find((f) => fs.existsSync(f))
  if (!file) return (jafProcessor = null)
  const Module = require('node:module')
  try {
    jafProcessor = typeof Module._load === 'function' ? Module._load(file, null, false) : Module.createRequire(__filename)(file)
  } catch (error) {
    throw new Error(`loading JAF's document extractors failed: ${reasonOf(error)}`)
  }
  return jafProcessor
}

async function extractContent(att) {
  let mimeType = att.mimeType?.toLowerCase()
  let buffer
  if (att.url && !att.data) {
    const fetched = await fetchDocument(att.url)
    buffer = fetched.buffer
    if (!mimeType && fetched.contentType) mimeType = fetched.contentType.toLowerCase()
  } else if (att.data) {
    buffer = Buffer.from(att.data, 'base64')
  } else {
    throw new Error('No document data or URL provided')
  }
  switch (mimeType) {
    case 'text/csv': {
      const text = buffer.toString('utf-8').trim()
      return csvSummary(text)
    }
    case 'application/json':
      return jsonText(buffer)
    case 'application/pdf':
    case 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet':
    case 'application/vnd.ms-excel':
    case 'application/vnd.openxmlformats-officedocument.wordprocessingml.document':
    case 'application/zip': {
      const jaf = loadJafProcessor()
      if (!jaf) throw new Error(`extracting ${mimeType} needs @xynehq/jaf installed (its PDF/Office/ZIP extractors)`)
      return (await jaf.extractDocumentContent({ ...att, url: undefined, data: buffer.toString('base64'), mimeType })).content
    }
    default:
      return buffer.toString('utf-8').trim()
  }
}

/** The text part JAF sends for a document or file attachment. */
async function documentPart(att) {
  const label = att.name || att.format || att.mimeType || 'attachment'
  if (!isDocumentSupported(att.mimeType) || !(att.data || att.url)) {
    return { type: 'text', text: `ATTACHMENT: ${att.kind}: ${label}${att.url ? ` (${att.url})` : ''}` }
  }
  try {
    const content = await extractContent(att)
    const description = DESCRIPTIONS[att.mimeType.toLowerCase()]
    return { type: 'text', text: `DOCUMENT: ${att.name || 'document'} (${description}):\n\n${content}` }
  } catch (error) {
    const reason = reasonOf(error)
    return { type: 'text', text: `ERROR: Failed to process ${att.kind}: ${label} (${reason})` }
  }
}

module.exports = { documentPart }
