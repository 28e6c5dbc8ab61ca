#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kafka-topics.sh: Kafka's tool of that name (kafka.admin.TopicCommand), with its arguments.
exec "$(dirname "$0")/kafka-run-class.sh" kafka.admin.TopicCommand "$@"
