#!/usr/bin/env bash
# Builds the Portcullis image and checks it for real, against this machine's PostgreSQL:
#   - the container becomes `healthy` through the image's own HEALTHCHECK;
#   - the service runs as a non-root user;
#   - an admin can sign in through the published port (POST /api/v1/auth/login answers 200);
#   - `docker stop` (SIGTERM) ends it with exit code 0.
# Run from anywhere:  bash docker/test-image.sh        (CI runs exactly that, as root)
#
# Works with a normal Docker engine and registry access. Without one (as on the CI machines) it
# makes its own: if no engine answers it starts `dockerd` (installing Debian's docker.io when
# root on Debian) with the vfs storage driver and no bridge, and stops it again at the end. If the
# base image (node:24-bookworm-slim) is neither present nor pullable, it builds a stand-in from
# Debian (debootstrap), the official Node 24 binary and npm 11 from the npm registry, and the
# host's extra CA certificates, and caches its root filesystem under $PORTCULLIS_CACHE.
# The container uses the host's network (a Linux engine is assumed) to reach PostgreSQL on
# 127.0.0.1; a scratch database is created and dropped. The image stays (tagged $IMAGE, its build
# stage $IMAGE-build) as the cache of the next run; the images a rebuild replaces are removed.
#
# Settings (environment, defaults in brackets): PGHOST/PGPORT/PGUSER [127.0.0.1/5432/postgres],
# TEST_PORT [3300], TEST_MANAGEMENT_PORT [9300], PORTCULLIS_CACHE [~/.cache/portcullis],
# PORTCULLIS_TEST_IMAGE [portcullis:test], NODE_IMAGE [node:24-bookworm-slim], DEBIAN_MIRROR
# [apt's bookworm source], PULL_TIMEOUT [120 s], HEALTH_TIMEOUT [120 s], DOCKERD_STORAGE_DRIVER
# [overlay2, falling back to vfs; only for a dockerd this script starts].
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${PORTCULLIS_TEST_IMAGE:-portcullis:test}
NODE_IMAGE=${NODE_IMAGE:-node:24-bookworm-slim}
CACHE=${PORTCULLIS_CACHE:-${HOME:-/root}/.cache/portcullis}
PULL_TIMEOUT=${PULL_TIMEOUT:-120}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-120}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}

START=$SECONDS
mkdir -p "$CACHE"
FAILED=0
DOCKERD_PID=''
CONTAINER=''
DATABASE=''
ROOTFS_WORK=''

elapsed() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }
log() { printf '== [%s] %s\n' "$(elapsed $((SECONDS - START)))" "$*"; }
pass() { printf 'PASS: %s\n' "$*"; }
fail() {
  printf 'FAIL: %s\n' "$*" >&2
  FAILED=1
  if [[ -n $CONTAINER ]] && docker inspect "$CONTAINER" >/dev/null 2>&1; then
    printf -- '--- docker logs %s (last 200 lines)\n' "$CONTAINER" >&2
    docker logs --tail 200 "$CONTAINER" >&2 2>&1 || true
    printf -- '--- health check results\n' >&2
    docker inspect --format '{{json .State.Health}}' "$CONTAINER" >&2 || true
    printf -- '---\n' >&2
  fi
  exit 1
}
is_root_on_debian() { [[ $(id -u) -eq 0 && -f /etc/debian_version ]] && command -v apt-get >/dev/null; }
APT_UPDATED=0
apt_install() {
  is_root_on_debian || fail "$* missing, and this is not root on Debian: install it and run again"
  log "installing $* with apt"
  if [[ $APT_UPDATED -eq 0 ]]; then
    apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Removes what this run created; stops the engine only if this run started it.
cleanup() {
  local status=$?
  set +e
  if [[ -n $CONTAINER ]]; then
    docker rm --force --volumes "$CONTAINER" >/dev/null 2>&1
  fi
  if [[ -n $DATABASE ]]; then
    dropdb --if-exists "$DATABASE" >/dev/null 2>&1 || printf 'warning: could not drop database %s\n' "$DATABASE" >&2
  fi
  if [[ -n $ROOTFS_WORK ]]; then
    remove_rootfs_work
  fi
  if [[ -n $DOCKERD_PID ]]; then
    log "stopping the Docker engine this run started (pid $DOCKERD_PID)"
    kill "$DOCKERD_PID" 2>/dev/null
    for _ in $(seq 1 30); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 1; done
    kill -0 "$DOCKERD_PID" 2>/dev/null && kill -9 "$DOCKERD_PID" 2>/dev/null
  fi
  if [[ $status -eq 0 && $FAILED -eq 0 ]]; then
    printf 'PASS: image %s (whole script %s)\n' "$IMAGE" "$(elapsed $((SECONDS - START)))"
  else
    printf 'FAIL: image test did not pass (exit %s, after %s)\n' "$status" "$(elapsed $((SECONDS - START)))" >&2
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# The Docker engine
# ---------------------------------------------------------------------------------------------
ensure_engine() {
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    log "using the running Docker engine ($(docker info --format '{{.ServerVersion}}, storage {{.Driver}}'))"
    return
  fi
  if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
    apt_install docker.io
  fi
  [[ $(id -u) -eq 0 ]] || fail "no Docker engine answers and only root can start one here"
  # overlay2 where the kernel and filesystem allow it (a build takes ~5 min here; vfs copies the
  # whole image for every step, ~8-15 min), else vfs, which works everywhere.
  local driver
  for driver in ${DOCKERD_STORAGE_DRIVER:-overlay2 vfs}; do
    start_dockerd "$driver" && return
  done
  fail "dockerd did not start with any storage driver (log: $CACHE/dockerd.log)"
}

# Starts dockerd with one storage driver; returns non-zero (and stops it) if it does not answer.
start_dockerd() {
  local logfile="$CACHE/dockerd.log"
  log "starting dockerd (storage $1, no bridge; log in $logfile)"
  dockerd --storage-driver="$1" --iptables=false --ip6tables=false --bridge=none >"$logfile" 2>&1 &
  DOCKERD_PID=$!
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    kill -0 "$DOCKERD_PID" 2>/dev/null || break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    tail -n 10 "$logfile" >&2
    kill "$DOCKERD_PID" 2>/dev/null || true
    wait "$DOCKERD_PID" 2>/dev/null || true
    DOCKERD_PID=''
    return 1
  fi
  log "dockerd $(docker info --format '{{.ServerVersion}}') is up"
}

# ---------------------------------------------------------------------------------------------
# The base image: present, pulled, imported from the cache, or built from Debian + npm packages
# ---------------------------------------------------------------------------------------------

# The Debian mirror apt uses on this machine (bookworm's main suite), else deb.debian.org.
debian_mirror() {
  if [[ -n ${DEBIAN_MIRROR:-} ]]; then
    printf '%s\n' "$DEBIAN_MIRROR"
    return
  fi
  local f uri
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    # deb [options] URI SUITE COMPONENTS...
    uri=$(awk '$1 == "deb" { i = 2; if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
                             if ($(i + 1) == "bookworm") { print $i; exit } }' "$f")
    [[ -n $uri ]] && { printf '%s\n' "$uri"; return; }
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    # deb822 paragraphs: Types: deb / URIs: ... / Suites: bookworm ...
    uri=$(awk 'BEGIN { RS = ""; FS = "\n" }
               { types = ""; uris = ""; suites = ""
                 for (i = 1; i <= NF; i++) {
                   if ($i ~ /^Types:/) types = $i
                   if ($i ~ /^URIs:/) uris = $i
                   if ($i ~ /^Suites:/) suites = $i
                 }
                 if (types ~ /[ \t]deb([ \t]|$)/ && (suites " ") ~ /[ \t]bookworm[ \t]/) {
                   split(uris, u, /[ \t]+/); print u[2]; exit
                 } }' "$f")
    [[ -n $uri ]] && { printf '%s\n' "$uri"; return; }
  done
  printf '%s\n' http://deb.debian.org/debian
}

node_arch() {
  case "$(uname -m)" in
    x86_64 | amd64) echo x64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) fail "no Node binary package for $(uname -m)" ;;
  esac
}

# Unmounts anything left under the scratch root (debootstrap mounts proc/sys), then deletes it.
# Never deletes while something is still mounted there.
remove_rootfs_work() {
  local mounts
  mounts=$(awk -v root="$ROOTFS_WORK/" 'index($2, root) == 1 { print $2 }' /proc/mounts | sort -r)
  if [[ -n $mounts ]]; then
    while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done <<<"$mounts"
  fi
  if awk -v root="$ROOTFS_WORK/" 'index($2, root) == 1 { found = 1 } END { exit !found }' /proc/mounts; then
    printf 'warning: mounts remain under %s; left it in place\n' "$ROOTFS_WORK" >&2
  else
    rm -rf --one-file-system "$ROOTFS_WORK"
  fi
  ROOTFS_WORK=''
}

# Builds the root filesystem tarball of a node:24-bookworm-slim stand-in into $1.
build_rootfs() {
  local tarball=$1 arch mirror root npm_tgz
  arch=$(node_arch)
  mirror=$(debian_mirror)
  command -v debootstrap >/dev/null || apt_install debootstrap
  command -v npm >/dev/null || fail "npm is needed on this machine to fetch Node 24 and npm 11 from the npm registry"
  ROOTFS_WORK=$(mktemp -d /tmp/portcullis-rootfs.XXXXXX)
  root=$ROOTFS_WORK/root

  log "debootstrap bookworm (minbase) from $mirror"
  debootstrap --variant=minbase --include=ca-certificates bookworm "$root" "$mirror" \
    >"$ROOTFS_WORK/debootstrap.log" 2>&1 || { tail -n 30 "$ROOTFS_WORK/debootstrap.log" >&2; fail "debootstrap failed"; }

  log "adding Node 24 (node-linux-$arch@24) and npm 11 from the npm registry"
  npm install --prefix "$ROOTFS_WORK/node" --no-save --no-package-lock --ignore-scripts \
    --no-audit --no-fund --loglevel=error "node-linux-$arch@24" >/dev/null
  install -m 0755 "$ROOTFS_WORK/node/node_modules/node-linux-$arch/bin/node" "$root/usr/local/bin/node"
  npm_tgz=$(cd "$ROOTFS_WORK" && npm pack --silent --loglevel=error npm@11 | tail -n 1)
  mkdir -p "$root/usr/local/lib/node_modules/npm"
  tar -xzf "$ROOTFS_WORK/$npm_tgz" -C "$root/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
  chmod 0755 "$root/usr/local/lib/node_modules/npm/bin/npm-cli.js" "$root/usr/local/lib/node_modules/npm/bin/npx-cli.js"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"

  # The host's extra CAs (e.g. a TLS-inspecting proxy's) go into the image's system bundle, which
  # node (NODE_EXTRA_CA_CERTS, set on import) and npm (cafile) then trust. None: nothing added.
  if [[ -d /usr/local/share/ca-certificates ]]; then
    cp -R /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
  fi
  # (openssl rehash always warns about the bundle file itself; that line is noise.)
  chroot "$root" /usr/sbin/update-ca-certificates 2>&1 >/dev/null | { grep -v 'skipping ca-certificates.crt' || true; } >&2
  mkdir -p "$root/usr/local/etc"
  printf 'cafile=/etc/ssl/certs/ca-certificates.crt\n' >"$root/usr/local/etc/npmrc"

  # The official images' unprivileged user.
  chroot "$root" /usr/sbin/groupadd --gid 1000 node
  chroot "$root" /usr/sbin/useradd --uid 1000 --gid node --shell /bin/bash --create-home node

  # Slim: no package lists, downloaded packages, docs or man pages.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* \
    "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/log/* "$root"/tmp/*

  mkdir -p "$(dirname "$tarball")"
  tar --numeric-owner -C "$root" -cf "$tarball.partial" .
  mv "$tarball.partial" "$tarball"
  remove_rootfs_work
}

ensure_base_image() {
  if docker image inspect "$NODE_IMAGE" >/dev/null 2>&1; then
    log "base image $NODE_IMAGE is present"
    return
  fi
  log "pulling $NODE_IMAGE (up to ${PULL_TIMEOUT} s)"
  if timeout "$PULL_TIMEOUT" docker pull --quiet "$NODE_IMAGE" >/dev/null 2>&1; then
    log "pulled $NODE_IMAGE"
    return
  fi
  [[ $NODE_IMAGE == node:24-bookworm-slim ]] ||
    fail "cannot pull $NODE_IMAGE, and only node:24-bookworm-slim can be built locally"
  log "no registry answers: building a local stand-in for $NODE_IMAGE"

  # The cached root filesystem is keyed on the architecture and the host's extra CAs.
  local ca_key tarball t0=$SECONDS
  ca_key=$({ find /usr/local/share/ca-certificates -type f -name '*.crt' -print0 2>/dev/null || true; } |
    sort -z | xargs -0 -r cat | sha256sum | cut -c1-12)
  tarball="$CACHE/node-24-bookworm-slim-rootfs-$(node_arch)-$ca_key.tar"
  if [[ -f $tarball ]]; then
    log "using the cached root filesystem $tarball"
  else
    build_rootfs "$tarball"
    log "root filesystem built in $(elapsed $((SECONDS - t0))): $tarball ($(du -h "$tarball" | cut -f1))"
  fi
  docker import \
    --message "Portcullis stand-in for node:24-bookworm-slim (docker/test-image.sh)" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["node"]' \
    "$tarball" "$NODE_IMAGE" >/dev/null
  log "imported $NODE_IMAGE: $(docker run --rm --network host "$NODE_IMAGE" sh -c 'echo "node $(node --version), npm $(npm --version), uid of node: $(id -u node)"') (base image ready after $(elapsed $((SECONDS - t0))))"
}

# ---------------------------------------------------------------------------------------------
# Helpers for the run
# ---------------------------------------------------------------------------------------------
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p=$1
  while port_in_use "$p"; do p=$((p + 1)); done
  echo "$p"
}
random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------
command -v curl >/dev/null || apt_install curl ca-certificates
command -v psql >/dev/null || fail "psql/createdb are needed (PostgreSQL client)"
if ! pg_isready -q; then
  # On the CI machines PostgreSQL is installed but may be stopped.
  if [[ $(id -u) -eq 0 ]] && command -v pg_ctlcluster >/dev/null && [[ -d /etc/postgresql ]]; then
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(find /etc/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | head -n 1)" main start
    for _ in $(seq 1 30); do pg_isready -q && break; sleep 1; done
  fi
  pg_isready -q || fail "PostgreSQL does not answer on $PGHOST:$PGPORT"
fi

ensure_engine
ensure_base_image

# Builds need the network; with no bridge (as when this script started dockerd) use the host's.
BUILD_ARGS=()
docker network inspect bridge >/dev/null 2>&1 || BUILD_ARGS+=(--network host)
[[ $NODE_IMAGE == node:24-bookworm-slim ]] || BUILD_ARGS+=(--build-arg "NODE_IMAGE=$NODE_IMAGE")
: >"$CACHE/build.log"
docker_build() {
  # Only the step headers on the console (classic builder: "Step n/m", BuildKit: "#n [stage x/y]").
  if ! docker build -f docker/Dockerfile "${BUILD_ARGS[@]}" "$@" . 2>&1 | tee -a "$CACHE/build.log" |
    { grep --line-buffered -E '^(Step [0-9]+/[0-9]+ : |#[0-9]+ \[)' || true; }; then
    tail -n 60 "$CACHE/build.log" >&2
    fail "docker build failed (log: $CACHE/build.log)"
  fi
}
image_id() { docker image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }
log "building $IMAGE (full log: $CACHE/build.log)"
t0=$SECONDS
# The classic builder (no buildx) leaves the build stage as an untagged image that is also the
# layer cache of `npm ci`. Tag it, so that the images a rebuild replaces can be removed (with vfs
# each layer is a full copy of the file system) without losing that cache.
STAGE_IMAGE="$IMAGE-build"
OLD_IDS=("$(image_id "$IMAGE")" "$(image_id "$STAGE_IMAGE")")
if ! docker buildx version >/dev/null 2>&1; then
  docker_build --target build -t "$STAGE_IMAGE"
fi
docker_build -t "$IMAGE"
NEW_IDS=" $(image_id "$IMAGE") $(image_id "$STAGE_IMAGE") "
for id in "${OLD_IDS[@]}"; do
  if [[ -n $id && $NEW_IDS != *" $id "* ]]; then
    if docker rmi "$id" >/dev/null 2>&1; then log "removed the replaced image ${id#sha256:}"; fi
  fi
done
pass "image $IMAGE built in $(elapsed $((SECONDS - t0)))"

DATABASE="portcullis_image_$(random_hex 6)"
createdb "$DATABASE"
PORT=$(free_port "${TEST_PORT:-3300}")
MANAGEMENT_PORT=$(free_port "${TEST_MANAGEMENT_PORT:-9300}")
[[ $MANAGEMENT_PORT != "$PORT" ]] || MANAGEMENT_PORT=$(free_port $((PORT + 1)))
ENCRYPTION_KEY=$(openssl rand -base64 32 2>/dev/null || head -c 32 /dev/urandom | base64)
ADMIN_PASSWORD="image-test-$(random_hex 12)-Passphrase"
CONTAINER="portcullis-image-test-$(random_hex 4)"

# The host's network: the container reaches PostgreSQL on 127.0.0.1 and answers on $PORT. Run
# read-only, without capabilities, as docker/compose.yaml does.
log "starting $CONTAINER on port $PORT (management $MANAGEMENT_PORT), database $DATABASE"
docker run --detach --name "$CONTAINER" --network host \
  --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges \
  -e HOST=127.0.0.1 -e PORT="$PORT" -e MANAGEMENT_PORT="$MANAGEMENT_PORT" \
  -e PUBLIC_URL="http://127.0.0.1:$PORT" \
  -e DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DATABASE" \
  -e ENCRYPTION_KEY="$ENCRYPTION_KEY" \
  -e ADMIN_USERNAME=admin -e ADMIN_PASSWORD="$ADMIN_PASSWORD" \
  "$IMAGE" >/dev/null
log "container started; waiting up to ${HEALTH_TIMEOUT} s for its HEALTHCHECK to report healthy"

# 1. healthy, through the image's HEALTHCHECK
t0=$SECONDS
status=''
while ((SECONDS - t0 < HEALTH_TIMEOUT)); do
  status=$(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$CONTAINER")
  [[ $status == healthy ]] && break
  [[ $status == none ]] && fail "the image has no HEALTHCHECK"
  [[ $(docker inspect --format '{{.State.Running}}' "$CONTAINER") == true ]] ||
    fail "the container stopped (exit code $(docker inspect --format '{{.State.ExitCode}}' "$CONTAINER")) before it was healthy"
  sleep 1
done
[[ $status == healthy ]] || fail "not healthy after ${HEALTH_TIMEOUT} s (status: $status)"
pass "container healthy through its HEALTHCHECK after $((SECONDS - t0)) s"

# 2. not root
config_user=$(docker inspect --format '{{.Config.User}}' "$CONTAINER")
pid1_uid=$(docker exec "$CONTAINER" cat /proc/1/status | awk '/^Uid:/ { print $2 }')
exec_uid=$(docker exec "$CONTAINER" id -u)
if [[ -z $config_user || $config_user == root || $config_user == 0 || $pid1_uid != [0-9]* || $pid1_uid -eq 0 || $exec_uid -eq 0 ]]; then
  fail "runs as root (Config.User '$config_user', uid of PID 1 '$pid1_uid', exec uid '$exec_uid')"
fi
pass "runs as user '$config_user' (uid of PID 1: $pid1_uid)"

# 3. sign in through the container's port
body=$(mktemp)
code=$(curl -sS -o "$body" -w '%{http_code}' --max-time 15 \
  -H 'content-type: application/json' \
  --data "{\"username\":\"admin\",\"password\":\"$ADMIN_PASSWORD\"}" \
  "http://127.0.0.1:$PORT/api/v1/auth/login") || code="curl failed"
if [[ $code != 200 ]] || ! grep -q '"accessToken":"[^"]\+' "$body"; then
  printf 'response (%s): %s\n' "$code" "$(head -c 500 "$body")" >&2
  rm -f "$body"
  fail "admin sign-in through port $PORT did not answer 200 with an accessToken"
fi
rm -f "$body"
pass "POST /api/v1/auth/login as admin answered 200 with an accessToken"

# The management port, when this version of the app has one (informational only).
if curl -fsS --max-time 5 -o /dev/null "http://127.0.0.1:$MANAGEMENT_PORT/health/ready" 2>/dev/null; then
  pass "management port $MANAGEMENT_PORT answers /health/ready"
else
  printf 'INFO: management port %s does not answer /health/ready (app without MANAGEMENT_PORT?)\n' "$MANAGEMENT_PORT"
fi

# 4. SIGTERM drains and exits 0
t0=$SECONDS
docker stop --time 30 "$CONTAINER" >/dev/null
exit_code=$(docker inspect --format '{{.State.ExitCode}}' "$CONTAINER")
[[ $exit_code == 0 ]] || fail "after docker stop (SIGTERM) the exit code is $exit_code, not 0"
pass "docker stop (SIGTERM): exit code 0 after $((SECONDS - t0)) s"
