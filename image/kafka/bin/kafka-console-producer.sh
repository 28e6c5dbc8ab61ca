#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kafka-console-producer.sh: Kafka's tool of that name (kafka.tools.ConsoleProducer), with its arguments.
exec "$(dirname "$0")/kafka-run-class.sh" kafka.tools.ConsoleProducer "$@"
