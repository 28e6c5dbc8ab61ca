#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kafka-metadata-quorum.sh: Kafka's tool of that name (org.apache.kafka.tools.MetadataQuorumCommand), with its arguments.
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.MetadataQuorumCommand "$@"
