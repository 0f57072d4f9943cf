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

# Builds the node and CLI jars (and their lib/ folders) when sources changed.
ensure_built() {
  command -v java >/dev/null || die "java not found: install a JDK 17 (apt-get install openjdk-17-jdk-headless)"
  command -v mvn >/dev/null || die "mvn not found: install Maven (apt-get install maven)"
  if stale "$NODE_JAR" "$CAIRN_ROOT/node/src/main" "$CAIRN_ROOT/node/pom.xml" "$CAIRN_ROOT/proto/src/main" \
     || stale "$CLI_JAR" "$CAIRN_ROOT/cli/src/main" "$CAIRN_ROOT/cli/pom.xml" "$CAIRN_ROOT/client/src/main"; then
    say "building node and cli (mvn package, tests skipped; 'scripts/test' runs them)..."
    (cd "$CAIRN_ROOT" && mvn -B -q -DskipTests -pl node,cli -am package) >&2 \
      || die "build failed (run: mvn -DskipTests -pl node,cli -am package)"
  fi
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
