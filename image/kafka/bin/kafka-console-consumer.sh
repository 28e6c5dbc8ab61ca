#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kafka-console-consumer.sh: Kafka's tool of that name (kafka.tools.ConsoleConsumer), with its arguments.
exec "$(dirname "$0")/kafka-run-class.sh" kafka.tools.ConsoleConsumer "$@"
