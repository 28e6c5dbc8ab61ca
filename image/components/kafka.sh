#!/usr/bin/env bash
# Fetches the Apache Kafka of the components lock (KAFKA_VERSION, KAFKA_SCALA_VERSION) from Maven
# Central into the test dependency cache, ${CLUSTERBOOT_DEPS_CACHE:-/var/cache/clusterboot-test/deps}/
# kafka-VERSION/lib/: the broker (org.apache.kafka:kafka_SCALA) with its runtime dependencies, the tools
# (org.apache.kafka:kafka-tools) and a logging backend (reload4j behind slf4j, what Kafka's own
# distribution ships), so that `java -cp 'lib/*' CLASS` runs what bin/kafka-*.sh would run:
#
#   kafka.Kafka                                  the broker (kafka-server-start.sh)        kafka_SCALA
#   kafka.tools.StorageTool                      kafka-storage.sh format / info            kafka_SCALA
#   kafka.admin.TopicCommand                     kafka-topics.sh                           kafka_SCALA
#   kafka.tools.ConsoleProducer, ConsoleConsumer kafka-console-producer/consumer.sh        kafka_SCALA
#   org.apache.kafka.tools.MetadataQuorumCommand kafka-metadata-quorum.sh                  kafka-tools
#
# Maven resolves the dependency tree (a throwaway pom, dependency:copy-dependencies) with a local
# repository inside the cache, so nothing lands in the repository or in ~/.m2. A stamp file, written
# last, lists the jars; a folder with the stamp and every jar it lists is kept ("current"), anything else
# (an interrupted run) is fetched again.
#
# Says what it did on stderr; prints the lib folder on stdout (the last line), for the tests.
# Exit status: 0 the jars are there, 1 they could not be fetched (Maven's error is shown, or the fetch took
# longer than KAFKA_FETCH_TIMEOUT seconds, 420 by default), 2 no java or no Maven, 3 the fetched jars lack
# a class that the tests run (the artifacts of that version are laid out differently).
#
#   image/components/kafka.sh                          the pinned version
#   KAFKA_VERSION=3.7.0 image/components/kafka.sh      another one, to try a version before pinning it
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
want=${KAFKA_VERSION:-}
want_scala=${KAFKA_SCALA_VERSION:-}
# The components lock: CLUSTERBOOT_LOCK (what `clusterboot binaries fetch` sets), or the one of the source tree.
lock=${CLUSTERBOOT_LOCK:-$here/../components.lock}
# shellcheck source=/dev/null
. "$lock"
version=${want:-$KAFKA_VERSION}
scala=${want_scala:-$KAFKA_SCALA_VERSION}
cache=${CLUSTERBOOT_DEPS_CACHE:-/var/cache/clusterboot-test/deps}
dir=$cache/kafka-$version
lib=$dir/lib
stamp=$dir/.complete
fetch_timeout=${KAFKA_FETCH_TIMEOUT:-420}
mvn=${MVN:-mvn}
java=${JAVA:-java}
# Kafka 3.6's own distribution ships these two as its logging backend (libs/reload4j-*, slf4j-reload4j-*).
reload4j_version=1.2.25
slf4j_version=1.7.36
# The classes the tests run; each must be in some jar of lib/.
classes=(kafka.Kafka kafka.tools.StorageTool kafka.admin.TopicCommand kafka.tools.ConsoleProducer
        kafka.tools.ConsoleConsumer org.apache.kafka.tools.MetadataQuorumCommand org.apache.log4j.Logger
        org.slf4j.impl.Reload4jLoggerAdapter)

say() { echo "kafka: $*" >&2; }

# The stamp's first line names the version; every further line is a jar that must be there.
is_current() {
        local first jar
        [ -f "$stamp" ] || return 1
        { read -r first && [ "$first" = "kafka_$scala-$version" ] || return 1
          while read -r jar; do [ -f "$lib/$jar" ] || return 1; done; } <"$stamp"
}
summary() { echo "$(find "$lib" -name '*.jar' | wc -l) jars, $(du -sh "$lib" | cut -f1)"; }

if is_current; then
        say "current: kafka_$scala $version at $lib ($(summary))"
        echo "$lib"
        exit 0
fi
command -v "$java" >/dev/null || { say "no java ($java); Kafka $version needs Java 11 or later (set JAVA=)"; exit 2; }
command -v "$mvn" >/dev/null || { say "no Maven ($mvn) to fetch Kafka from Maven Central (set MVN=)"; exit 2; }

mkdir -p "$dir" || exit 1
# Two tests that start at once fetch once: the second waits here, then finds the folder current.
exec 9>"$dir/.lock"
flock -w $((fetch_timeout + 60)) 9 || { say "timed out waiting for another fetch ($dir/.lock)"; exit 1; }
if is_current; then
        say "current: kafka_$scala $version at $lib (fetched meanwhile by another run)"
        echo "$lib"
        exit 0
fi

# Into a scratch folder first: a failed or interrupted fetch leaves no lib/ that looks finished.
rm -f "$stamp"
tmp=$(mktemp -d "$dir/.fetch.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Throwaway: only resolves Kafka's runtime class path for clusterboot's tests. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>clusterboot.test</groupId>
  <artifactId>kafka-deps</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_$scala</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$version</version></dependency>
    <dependency><groupId>ch.qos.reload4j</groupId><artifactId>reload4j</artifactId><version>$reload4j_version</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>$slf4j_version</version></dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>3.6.1</version>
      </plugin>
    </plugins>
  </build>
</project>
EOF
say "fetching org.apache.kafka:kafka_$scala:$version and kafka-tools:$version with their runtime dependencies from Maven Central (through the local repository $dir/m2) into $lib"
t0=$(date +%s)
# -Dmaven.repo.local: Maven's downloads (the plugin included) stay in the cache, not in ~/.m2.
(cd "$tmp" && timeout -k 10 "$fetch_timeout" "$mvn" -B -ntp -Dmaven.repo.local="$dir/m2" \
        dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp/lib") >"$dir/fetch.log" 2>&1
rc=$?
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        say "mvn dependency:copy-dependencies did not finish in $fetch_timeout s (KAFKA_FETCH_TIMEOUT; log: $dir/fetch.log)"
        exit 1
elif [ "$rc" != 0 ]; then
        say "mvn dependency:copy-dependencies failed (exit $rc) after $(($(date +%s) - t0)) s (log: $dir/fetch.log):"
        grep -E '^\[(ERROR|WARNING)\] .*[a-z]' "$dir/fetch.log" |
                grep -vE 're-run Maven|Re-run Maven|For more information|\[Help 1\] http' | head -n 20 | sed 's/^/  /' >&2
        exit 1
fi
t1=$(date +%s)

# Every class the tests run is there (a moved class fails here, not in the middle of a test).
missing=$(python3 - "$tmp/lib" "${classes[@]}" <<'PY'
import os, sys, zipfile
lib, want = sys.argv[1], sys.argv[2:]
have = set()
for j in os.listdir(lib):
    if j.endswith(".jar"):
        have.update(zipfile.ZipFile(os.path.join(lib, j)).namelist())
print(" ".join(c for c in want if c.replace(".", "/") + ".class" not in have))
PY
) || { say "cannot read the fetched jars in $tmp/lib"; exit 1; }
if [ -n "$missing" ]; then
        say "kafka_$scala $version and kafka-tools $version do not hold: $missing"
        exit 3
fi

rm -rf "$lib" && mv "$tmp/lib" "$lib" || exit 1
{ echo "kafka_$scala-$version"; (cd "$lib" && ls -1 -- *.jar); } >"$stamp.tmp" && mv -f "$stamp.tmp" "$stamp" || exit 1
say "fetched kafka_$scala $version in $((t1 - t0)) s: $lib ($(summary); Maven's repository $(du -sh "$dir/m2" | cut -f1))"
echo "$lib"
