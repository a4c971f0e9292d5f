#!/usr/bin/env bash
# The dependency step of the upgrade scenario: the shared bookworm image, built by
# molecule/images/build.sh only when there is none. The scenario needs nothing of the image but
# systemd and Python (the packages it tests come from apt), so an image built from another
# checkout's recipe (several checkouts on one machine) is used as it is rather than rebuilt.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if docker image inspect redisops/molecule-systemd:bookworm >/dev/null 2>&1; then
  echo "redisops/molecule-systemd:bookworm exists: used as it is" >&2
  exit 0
fi
exec "$here/../images/build.sh" bookworm
