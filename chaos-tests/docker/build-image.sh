#!/usr/bin/env bash
# Builds the Cairn node image for the chaos tests, offline, from what is on this machine.
#
#   chaos-tests/docker/build-image.sh [--app-dir DIR] [--main CLASS] [--tag TAG]
#   chaos-tests/docker/build-image.sh --clean
#
# No image can be pulled here, so the image is assembled from a folder:
#   /opt/java           a jlink'ed runtime of the local JDK 17 (all modules, no debug info)
#   /lib, /lib64, ...   every shared library ldd names for java, its non-GUI native libs and
#                       the x86-64 native libs inside the app's jars (RocksDB's JNI, Netty's)
#   /bin                a static busybox (Debian busybox-static): sh, ls, cat, ps, nc, ...
#   /usr/lib/x86_64-linux-gnu/faketime  libfaketime (Debian), for clock-skew tests:
#                       LD_PRELOAD=$FAKETIME_LIB FAKETIME=+5s FAKETIME_DONT_FAKE_MONOTONIC=1
#   /etc/passwd, /etc/group, /etc/nsswitch.conf; /etc/hosts and resolv.conf are Docker's
#   /app/lib/*.jar, /app/cairn-node.jar   the node (from --app-dir)
#   /data, /tmp
# Entry: java -cp '/app/lib/*:/app/cairn-node.jar' MAIN "$@" (MAIN defaults to
# io.cairn.node.Main); JVM options go in JDK_JAVA_OPTIONS.
#
# The base (runtime + libraries + tools) is imported once per content key as
# cairn-node-base:<key> and kept as a cache; the node image is a thin layer on
# top, rebuilt only when the jars, the main class or the base change (label
# io.cairn.image.hash). --app-dir takes either node/target's layout
# (cairn-node-<version>.jar + lib/) or cairn-node.jar + lib/.
# Prints the image ID on stdout; messages go to stderr.
set -euo pipefail

readonly BASE_FORMAT=2 # bump to force a new base when the layout below changes
readonly JDK=${CAIRN_IMAGE_JDK:-/usr/lib/jvm/java-17-openjdk-amd64}
readonly CACHE=${CAIRN_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cairn/node-image}
readonly HASH_LABEL=io.cairn.image.hash
readonly SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
# Native libraries only AWT, sound, smartcards and accessibility load; their X11/GTK
# dependencies are not copied (a headless server never loads them).
readonly GUI_LIBS='libawt|libfontmanager|libjawt|libjsound|libsplashscreen|liblcms|libmlib_image|libjavajpeg|libj2pcsc|libatk-wrapper'
readonly DOCKER_TIMEOUT_S=300

say() { printf 'build-image: %s\n' "$*" >&2; }
die() { printf 'build-image: ERROR: %s\n' "$*" >&2; exit 1; }
dk() { timeout "$DOCKER_TIMEOUT_S" docker "$@"; }

app_dir=$REPO/node/target
main_class=io.cairn.node.Main
tag=cairn-node:test
clean=0
while (($# > 0)); do
  case $1 in
    --app-dir) app_dir=${2:?}; shift 2 ;;
    --main) main_class=${2:?}; shift 2 ;;
    --tag) tag=${2:?}; shift 2 ;;
    --clean) clean=1; shift ;;
    *) die "unknown argument $1 (usage: build-image.sh [--app-dir DIR] [--main CLASS] [--tag TAG] | --clean)" ;;
  esac
done

mkdir -p "$CACHE"
exec 9>"$CACHE/lock"
flock -w 600 9 || die "another build holds $CACHE/lock for over 600 s"

if ((clean)); then
  for id in $(dk images -q --filter "reference=cairn-node-base" | sort -u); do
    dk rmi -f "$id" >/dev/null && say "removed base image $id"
  done
  rm -rf "${CACHE:?}"/base-* "${CACHE:?}"/debs
  say "cache cleaned"
  exit 0
fi

dk info >/dev/null 2>&1 || die "no Docker engine answers (start one with scripts/docker-engine up)"

# --- the node's jars ---------------------------------------------------------
node_jar=""
if [[ -f $app_dir/cairn-node.jar ]]; then
  node_jar=$app_dir/cairn-node.jar
else
  for f in "$app_dir"/cairn-node-*.jar; do
    [[ -f $f && $f != *-sources.jar && $f != *-javadoc.jar && $f != *-tests.jar ]] || continue
    [[ -z $node_jar ]] || die "more than one node jar in $app_dir"
    node_jar=$f
  done
fi
[[ -n $node_jar ]] || die "no cairn-node.jar or cairn-node-*.jar in $app_dir (run 'mvn -pl node package' first, or pass --app-dir)"

# --- Debian packages, fetched once (not installed on the host) ----------------
fetch_debs() {
  local debs=$CACHE/debs
  if compgen -G "$debs/busybox-static_*.deb" >/dev/null && compgen -G "$debs/libfaketime_*.deb" >/dev/null; then
    return
  fi
  mkdir -p "$debs"
  say "downloading busybox-static and libfaketime packages"
  if ! (cd "$debs" && timeout 120 apt-get download -q busybox-static libfaketime >/dev/null 2>&1); then
    timeout 120 apt-get update -q >/dev/null 2>&1 || true
    (cd "$debs" && timeout 120 apt-get download -q busybox-static libfaketime >/dev/null) ||
      die "apt-get download busybox-static libfaketime failed"
  fi
}
fetch_debs

jdk_libs() { ls "$JDK"/lib/*.so | grep -Ev "$GUI_LIBS"; echo "$JDK/lib/server/libjvm.so"; }

# The x86-64 native libraries packed in the app's jars (RocksDB's JNI library, Netty's
# epoll and tcnative), unpacked into $native_dir so ldd can name what they need: the JVM
# unpacks them at run time and dlopen fails on a library the base lacks.
native_dir=$(mktemp -d "${TMPDIR:-/tmp}/cairn-native.XXXXXX")
trap 'rm -rf "$native_dir"' EXIT
app_libs=()
unpack_app_native_libs() {
  local jar entry
  [[ -d $app_dir/lib ]] || return 0
  for jar in "$(cd "$app_dir/lib" && pwd)"/*.jar; do
    for entry in $("$JDK/bin/jar" tf "$jar" | grep -E '(x86_64|linux64)[^/]*\.so$' || true); do
      (cd "$native_dir" && "$JDK/bin/jar" xf "$jar" "$entry") || die "cannot unpack $entry from $jar"
      app_libs+=("$native_dir/$entry")
    done
  done
}
unpack_app_native_libs

# Host libraries the runtime needs, resolved to real files.
host_libs() {
  local f
  for f in "$JDK/bin/java" $(jdk_libs) "${app_libs[@]}" "$@"; do
    ldd "$f" 2>/dev/null | awk '$3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'
  done | grep -v "^$JDK/" | sort -u
}

base_key() {
  {
    echo "format $BASE_FORMAT"
    cat "$JDK/release"
    ls "$CACHE"/debs/*.deb | xargs -n1 basename
    host_libs | xargs sha256sum
    sed -n '/^# --- base rootfs/,/^# --- end base rootfs/p' "${BASH_SOURCE[0]}"
  } | sha256sum | cut -c1-16
}

# --- base rootfs -----------------------------------------------------------------
build_base() {
  local key=$1 dir=$CACHE/base-$1 t0=$SECONDS
  local root=$dir/rootfs
  rm -rf "$dir"
  mkdir -p "$root"/{bin,etc,tmp,data,app/lib,opt,usr/lib/x86_64-linux-gnu,proc,sys,dev}
  chmod 1777 "$root/tmp"
  say "jlink: runtime from $JDK"
  timeout 600 "$JDK/bin/jlink" --module-path "$JDK/jmods" --add-modules ALL-MODULE-PATH \
    --strip-debug --no-man-pages --no-header-files --compress=2 --output "$root/opt/java" >/dev/null
  local x=$dir/x
  mkdir -p "$x"
  for deb in "$CACHE"/debs/*.deb; do dpkg-deb -x "$deb" "$x"; done
  cp "$x/bin/busybox" "$root/bin/busybox"
  local applet
  for applet in $("$root/bin/busybox" --list); do
    [[ $applet == busybox ]] || ln -sf busybox "$root/bin/$applet"
  done
  cp -a "$x/usr/lib/x86_64-linux-gnu/faketime" "$root/usr/lib/x86_64-linux-gnu/"
  local lib
  for lib in $(host_libs "$x"/usr/lib/x86_64-linux-gnu/faketime/*.so.1); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
  # Docker bind-mounts its own; these make the image usable without it.
  printf '127.0.0.1 localhost\n' >"$root/etc/hosts"
  : >"$root/etc/resolv.conf"
  : >"$root/etc/hostname"
  mkdir -p "$root/root"
  tar --numeric-owner --owner=0 --group=0 -C "$root" -cf "$dir/rootfs.tar" .
  dk import \
    --change 'ENV PATH=/opt/java/bin:/bin' \
    --change 'ENV JAVA_HOME=/opt/java' \
    --change 'ENV TZ=UTC' \
    --change 'ENV FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1' \
    --change 'WORKDIR /data' \
    "$dir/rootfs.tar" "cairn-node-base:$key" >/dev/null
  rm -rf "$x" "$dir/rootfs.tar"
  say "base image cairn-node-base:$key built in $((SECONDS - t0)) s ($(du -sh "$root" | cut -f1) unpacked)"
}
# --- end base rootfs

key=$(base_key)
if ! dk image inspect "cairn-node-base:$key" >/dev/null 2>&1; then
  build_base "$key"
fi

# --- node image: a thin layer with the jars ----------------------------------
app_hash=$(
  {
    echo "base $key main $main_class"
    sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1
    sha256sum "$node_jar" | cut -d' ' -f1
    if [[ -d $app_dir/lib ]]; then (cd "$app_dir/lib" && find . -name '*.jar' -type f -print0 | sort -z | xargs -0 -r sha256sum); fi
  } | sha256sum | cut -c1-32
)
current=$(dk image inspect -f "{{index .Config.Labels \"$HASH_LABEL\"}}" "$tag" 2>/dev/null || true)
if [[ $current == "$app_hash" ]]; then
  say "$tag is up to date"
  dk image inspect -f '{{.Id}}' "$tag"
  exit 0
fi

t0=$SECONDS
ctx=$(mktemp -d "${TMPDIR:-/tmp}/cairn-image.XXXXXX")
trap 'rm -rf "$ctx" "$native_dir"' EXIT
mkdir -p "$ctx/app/lib"
cp "$node_jar" "$ctx/app/cairn-node.jar"
if [[ -d $app_dir/lib ]]; then find "$app_dir/lib" -maxdepth 1 -name '*.jar' -type f -exec cp {} "$ctx/app/lib/" \;; fi
cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM cairn-node-base:$key
COPY app /app
LABEL $HASH_LABEL=$app_hash
ENTRYPOINT ["/opt/java/bin/java", "-cp", "/app/lib/*:/app/cairn-node.jar", "$main_class"]
DOCKERFILE
# The legacy builder works against the local engine with nothing to pull.
DOCKER_BUILDKIT=0 dk build -q --pull=false -t "$tag" "$ctx" >/dev/null 2>"$ctx/build.err" ||
  die "docker build failed: $(cat "$ctx/build.err")"
say "$tag built in $((SECONDS - t0)) s"
dk image inspect -f '{{.Id}}' "$tag"
