#!/usr/bin/env bash
# Run `ansible-test sanity` on a copy of the collection laid out as
# ansible_collections/redisops/redis (where ansible-test needs it), offline.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=${VENV:-$root/.venv}
tree=${SANITY_TREE:-${TMPDIR:-/tmp}/redisops-sanity}/ansible_collections/redisops/redis

# ansible-test bootstraps pip in each test venv with a downloaded get-pip script unless a
# cached copy exists: put the offline stand-in where it looks, for the pip it pins.
pip_version=$("$venv/bin/python" - <<'PY'
from types import SimpleNamespace
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(SimpleNamespace(version="3.11"))["pip"])
PY
)
cache=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
mkdir -p "$(dirname "$cache")"
cp "$root/tests/sanity/offline_get_pip.py" "$cache"

# Copy what git tracks or would track (not the link back to the root, not ignored files),
# outside this checkout: inside it, ansible-test would list files with git and skip them all.
rm -rf "$tree"
mkdir -p "$tree"
(cd "$root" && git ls-files -co --exclude-standard | grep -v '^collections/' \
  | while read -r f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
  | xargs -0 cp --parents -t "$tree")

cd "$tree"
exec "$venv/bin/ansible-test" sanity --venv --python "${SANITY_PYTHON:-3.11}" --color no "$@"
