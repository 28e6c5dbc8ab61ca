#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kafka-storage.sh: Kafka's tool of that name (kafka.tools.StorageTool), with its arguments.
exec "$(dirname "$0")/kafka-run-class.sh" kafka.tools.StorageTool "$@"
