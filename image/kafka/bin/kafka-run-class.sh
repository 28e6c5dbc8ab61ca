#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kafka-run-class.sh CLASS [ARGS...]: runs a class of the Kafka jars in /opt/kafka/libs with the JVM
# settings that Kafka's own bin/kafka-run-class.sh takes from the environment (KAFKA_HEAP_OPTS,
# KAFKA_JVM_PERFORMANCE_OPTS, KAFKA_LOG4J_OPTS, KAFKA_OPTS). clusterboot's image carries Kafka as the jars
# of the components lock (Maven Central), not as Apache's distribution tarball; these scripts stand in for
# its bin/ and take the same arguments.
set -e
base=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -lt 1 ]; then
        echo "usage: kafka-run-class.sh CLASS [ARGS...]" >&2
        exit 2
fi
: "${KAFKA_HEAP_OPTS:=-Xmx256M}"
: "${KAFKA_JVM_PERFORMANCE_OPTS:=-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true}"
: "${KAFKA_LOG4J_OPTS:=-Dlog4j.configuration=file:$base/config/tools-log4j.properties}"
# The options are words lists, as Kafka's script splits them.
# shellcheck disable=SC2086
exec java $KAFKA_HEAP_OPTS $KAFKA_JVM_PERFORMANCE_OPTS $KAFKA_LOG4J_OPTS $KAFKA_OPTS -cp "$base/libs/*" "$@"
