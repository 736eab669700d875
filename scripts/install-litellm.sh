#!/usr/bin/env bash
# Installs the LiteLLM proxy (PyPI) into .litellm-venv for the proxy integration test.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="${LITELLM_VERSION:-1.106.2}"
if [ -x .litellm-venv/bin/litellm ] && .litellm-venv/bin/pip show litellm 2>/dev/null | grep -q "^Version: $VERSION$"; then
  exit 0
fi
python3 -m venv .litellm-venv
.litellm-venv/bin/pip install --quiet --disable-pip-version-check "litellm[proxy]==$VERSION"
