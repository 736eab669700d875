#!/usr/bin/env bash
# Installs the LiteLLM proxy (PyPI) into .litellm-venv for the proxy integration test.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="${LITELLM_VERSION:-1.106.2}"
# A venv holding litellm_init.pth runs code at every interpreter start: never use one.
refuse_pth() {
  if find .litellm-venv -name 'litellm_init.pth' 2>/dev/null | grep -q .; then
    echo "refusing .litellm-venv: it contains litellm_init.pth (delete the venv and reinstall)" >&2
    exit 1
  fi
}
[ -d .litellm-venv ] && refuse_pth
if [ -x .litellm-venv/bin/litellm ] && .litellm-venv/bin/pip show litellm 2>/dev/null | grep -q "^Version: $VERSION$"; then
  exit 0
fi
python3 -m venv .litellm-venv
.litellm-venv/bin/pip install --quiet --disable-pip-version-check "litellm[proxy]==$VERSION"
refuse_pth
