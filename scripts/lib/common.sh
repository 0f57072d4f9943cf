# Shared helpers for Cairn's scripts (sourced, not run).
CAIRN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CAIRN_VERSION=0.1.0-SNAPSHOT
NODE_JAR=$CAIRN_ROOT/node/target/cairn-node-$CAIRN_VERSION.jar
CLI_JAR=$CAIRN_ROOT/cli/target/cairn-cli-$CAIRN_VERSION.jar

say() { printf '%s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# True when a jar is missing or older than any source or pom it is built from.
stale() {
  local jar=$1; shift
  [ -f "$jar" ] || return 0
  [ -n "$(find "$@" "$CAIRN_ROOT/pom.xml" -newer "$jar" -type f -print -quit 2>/dev/null)" ]
}

# Builds the node and CLI jars (and their lib/ folders) when sources changed. Never rewrites the
# node jar while a node process runs from it: the JVM loads classes from the jar lazily, so a
# rebuild under a running node makes its next new class (the first snapshot's, say) fail with
# NoClassDefFoundError and takes the node down. It warns instead and keeps the current build.
ensure_built() {
  need_tools
  if stale "$NODE_JAR" "$CAIRN_ROOT/node/src/main" "$CAIRN_ROOT/node/pom.xml" "$CAIRN_ROOT/proto/src/main"; then
    if pgrep -f -- "$NODE_JAR" >/dev/null 2>&1; then
      say "warning: node sources changed since $NODE_JAR was built, but running nodes use it;"
      say "         not rebuilding it under them (stop them first: scripts/cluster down)"
      ensure_cli_built
      return
    fi
    say "building node and cli (mvn package, tests skipped; 'scripts/test' runs them)..."
    (cd "$CAIRN_ROOT" && mvn -B -q -DskipTests -pl node,cli -am package) >&2 \
      || die "build failed (run: mvn -DskipTests -pl node,cli -am package)"
    return
  fi
  ensure_cli_built
}

# Builds the CLI jar (with the client and proto it uses) when their sources changed; leaves the
# node jar alone, so cairnctl is safe to run against nodes started from this tree.
ensure_cli_built() {
  need_tools
  if cli_stale; then
    say "building cli (mvn package, tests skipped)..."
    (cd "$CAIRN_ROOT" && mvn -B -q -DskipTests -pl cli -am package) >&2 \
      || die "build failed (run: mvn -DskipTests -pl cli -am package)"
  fi
}

# Local certificates in $CAIRN_CERTS_DIR (default $CAIRN_CERTS, else certs/): a CA, node
# certificates n1..n9 for localhost and 127.0.0.1, and a client certificate 'admin'. Makes the set
# when ca.crt is missing, else only the node or client certificates that are missing; never
# replaces a file. Exports CAIRN_CERTS so cairnctl finds them.
ensure_certs() {
  CAIRN_CERTS_DIR=${CAIRN_CERTS_DIR:-${CAIRN_CERTS:-$CAIRN_ROOT/certs}}
  local dir=$CAIRN_CERTS_DIR shown=${CAIRN_CERTS_DIR#"$CAIRN_ROOT"/} fresh=0 i
  ensure_cli_built
  if [ ! -f "$dir/ca.crt" ]; then
    say "creating local certificates in $shown/ (CA, nodes n1-n9, client admin)..."
    cert_cmd create-ca --dir "$dir"
    fresh=1
  fi
  for i in $(seq 1 9); do
    [ -f "$dir/node.n$i.crt" ] && continue
    [ "$fresh" = 1 ] || say "creating $shown/node.n$i.crt (localhost, 127.0.0.1) from $shown/ca.crt..."
    cert_cmd create-node "n$i" localhost 127.0.0.1 --dir "$dir"
  done
  if [ ! -f "$dir/client.admin.crt" ]; then
    [ "$fresh" = 1 ] || say "creating $shown/client.admin.crt from $shown/ca.crt..."
    cert_cmd create-client admin --dir "$dir"
  fi
  export CAIRN_CERTS=$dir
}

# cert_cmd ARGS...: 'cairnctl cert ARGS' from the built CLI, quietly (it lists only file names;
# keys are never printed); a failure prints cairnctl's one-line reason and stops the script.
cert_cmd() {
  java -XX:TieredStopAtLevel=1 -cp "$CAIRN_ROOT/cli/target/lib/*:$CLI_JAR" io.cairn.cli.Cairnctl \
    cert "$@" >/dev/null || die "could not make certificates (cairnctl cert $*)"
}

# True when the CLI jar is missing or older than its sources (or the client's and proto's).
cli_stale() {
  stale "$CLI_JAR" "$CAIRN_ROOT/cli/src/main" "$CAIRN_ROOT/cli/pom.xml" "$CAIRN_ROOT/client/src/main" \
    "$CAIRN_ROOT/client/pom.xml" "$CAIRN_ROOT/proto/src/main" "$CAIRN_ROOT/proto/pom.xml"
}

# Prints the calling script's header comment (from line 2 to the first line that is not a
# comment) as its usage text, on stdout. Every script answers -h/--help with it before it builds,
# starts or changes anything, so help is always safe and fast.
usage_text() {
  awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"
}

# True when any argument asks for help (for scripts that pass their options on to cairnctl).
wants_help() {
  local a
  for a in "$@"; do case "$a" in -h|--help) return 0 ;; esac; done
  return 1
}

# cli_help ARGS...: cairnctl's own help for ARGS (e.g. 'bench --help') when the CLI jar is built
# and current; otherwise a line saying how to see it. Never builds: help must not start a build.
cli_help() {
  if command -v java >/dev/null && ! cli_stale; then
    java -cp "$CAIRN_ROOT/cli/target/lib/*:$CLI_JAR" io.cairn.cli.Cairnctl "$@" || true
  else
    echo "(cairnctl is not built, or older than its sources, so its own help is not shown here."
    echo " Build it with 'mvn -DskipTests -pl cli -am package' or any other scripts/cairnctl"
    echo " command, then: scripts/cairnctl $*)"
  fi
}

need_tools() {
  command -v java >/dev/null || die "java not found: install a JDK 17 (apt-get install openjdk-17-jdk-headless)"
  command -v mvn >/dev/null || die "mvn not found: install Maven (apt-get install maven)"
}

# A number from cairnctl's one-line JSON output: jnum KEY FILE
jnum() { grep -o "\"$1\": [-0-9.]*" "$2" | head -1 | sed 's/.*: //'; }

# bench_main CLASS ARGS...: builds the node module with its tests and runs a benchmark main from
# node's test classes (one 1 GiB G1 JVM, as a node runs).
bench_main() {
  local cls=$1; shift
  mvn -B -q -DskipTests -pl node -am install >&2
  mvn -B -q -pl node test-compile dependency:build-classpath -Dmdep.outputFile="$CAIRN_ROOT/node/target/bench.cp" -Dmdep.includeScope=test >&2
  exec java -Xms1g -Xmx1g -XX:+UseG1GC -cp "node/target/test-classes:node/target/classes:$(cat node/target/bench.cp)" "$cls" "$@"
}
