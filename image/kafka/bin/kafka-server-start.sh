#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kafka-server-start.sh server.properties: the broker (kafka.Kafka), as Kafka's own script starts it: 1 GiB
# of heap unless KAFKA_HEAP_OPTS says otherwise; it logs to standard output (the journal, under
# kafka.service), not to files.
if [ $# -lt 1 ]; then
        echo "usage: kafka-server-start.sh server.properties [--override property=value]..." >&2
        exit 2
fi
base=$(cd "$(dirname "$0")/.." && pwd)
: "${KAFKA_HEAP_OPTS:=-Xmx1G -Xms1G}"
: "${KAFKA_LOG4J_OPTS:=-Dlog4j.configuration=file:$base/config/log4j.properties}"
export KAFKA_HEAP_OPTS KAFKA_LOG4J_OPTS
exec "$base/bin/kafka-run-class.sh" kafka.Kafka "$@"
