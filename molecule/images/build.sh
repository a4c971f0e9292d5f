#!/usr/bin/env bash
# Build the systemd base images of the molecule scenarios from Debian suites, without any
# registry: debootstrap a minimal root file system, `docker import` it.
#
#   molecule/images/build.sh SUITE...        e.g. build.sh bookworm trixie bullseye
#
# Each suite gives the image redisops/molecule-systemd:SUITE, labelled with its recipe: a hash
# of this script, packages.txt and the suite. An image whose label matches is reused as it is;
# otherwise (first run, or the recipe changed) it is built again and the old one removed.
# FORCE=1 rebuilds anyway. DEBIAN_MIRROR picks another mirror (default: debootstrap's own).
# The server packages are left out on purpose: the scenarios' converge must install them.
#
# The scenarios' dependency step runs this; concurrent runs wait for each other (flock).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repository=redisops/molecule-systemd
packages=$(grep -v '^#' "$here/packages.txt" | xargs | tr ' ' ,)
label=org.redisops.molecule.recipe

[ $# -gt 0 ] || { echo "usage: $0 SUITE..." >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "$0: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "$0: no Docker engine answers (molecule/images/start-dockerd.sh starts one)" >&2; exit 1; }

exec 9>"${TMPDIR:-/tmp}/redisops-molecule-images.lock"
flock 9

rootfs=
trap '[ -z "$rootfs" ] || rm -rf "$rootfs" "$rootfs.log"' EXIT

for suite in "$@"; do
  image="$repository:$suite"
  recipe=$(cat "$here/build.sh" "$here/packages.txt" <(echo "$suite") | sha256sum | cut -c1-16)
  current=$(docker image inspect --format "{{ index .Config.Labels \"$label\" }}" "$image" 2>/dev/null || true)
  if [ "$current" = "$recipe" ] && [ "${FORCE:-0}" != 1 ]; then
    echo "$image is up to date (recipe $recipe)" >&2
    continue
  fi
  old=$(docker image inspect --format '{{ .Id }}' "$image" 2>/dev/null || true)
  echo "building $image (recipe $recipe; debootstrap $suite, about a minute)" >&2
  started=$SECONDS
  rootfs=$(mktemp -d "/var/tmp/redisops-$suite.XXXXXX")
  # shellcheck disable=SC2086 # DEBIAN_MIRROR is one word or nothing
  if ! debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" ${DEBIAN_MIRROR:-} \
      >"$rootfs.log" 2>&1; then
    tail -n 30 "$rootfs.log" >&2
    echo "$0: debootstrap $suite failed (full log above, last 30 lines)" >&2
    exit 1
  fi
  # Each container gets its own machine-id from systemd at boot; no downloaded .debs kept.
  : >"$rootfs/etc/machine-id"
  # sshd (packages.txt) as on a production host, for the tests that connect over SSH: keys only,
  # no password login, and host keys made by each container at its first start (none baked into
  # the image, where every container would share them). The tests put their own public key in
  # /root/.ssh/authorized_keys; nothing else can log in.
  rm -f "$rootfs"/etc/ssh/ssh_host_*
  mkdir -p "$rootfs/etc/ssh/sshd_config.d" "$rootfs/etc/systemd/system/ssh.service.d"
  cat >"$rootfs/etc/ssh/sshd_config.d/redisops.conf" <<'SSHD'
# redisops molecule image (molecule/images/build.sh): key authentication only.
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UseDNS no
SSHD
  cat >"$rootfs/etc/systemd/system/ssh.service.d/host-keys.conf" <<'UNIT'
# redisops molecule image (molecule/images/build.sh): this container's own host keys, made once.
[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
UNIT
  rm -f "$rootfs"/var/cache/apt/archives/*.deb
  # docker import cannot set STOPSIGNAL: each platform sets stop_signal SIGRTMIN+3 (molecule/*/molecule.yml).
  tar -C "$rootfs" -c . | docker import \
    --change 'CMD ["/lib/systemd/systemd"]' \
    --change "LABEL $label=$recipe" \
    - "$image" >/dev/null
  rm -rf "$rootfs" "$rootfs.log"
  rootfs=
  if [ -n "$old" ]; then
    docker image rm "$old" >/dev/null 2>&1 || echo "kept the previous image $old (still in use)" >&2
  fi
  echo "built $image in $((SECONDS - started)) s" >&2
done
