/** @type {import('next').NextConfig} */
const nextConfig = {
  // A native addon: Node loads it at run time; webpack must not try to bundle the .node file.
  serverExternalPackages: ['switchyard-llm'],
}

export default nextConfig
