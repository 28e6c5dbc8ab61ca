/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* /usr/bin/ceph ARGS... (NULL-terminated, at most 12) as client.admin with the node's admin keyring and
 * ceph.conf under root (NULL: /). The exit status as run_program(); the output (stdout and stderr: the client
 * may log a line or two before the answer) to *ret_output. A monitor that does not answer makes it exit 1
 * ("timed out") instead of hanging: --connect-timeout bounds the connection, rados_mon_op_timeout the
 * command once connected, each timeout_ms (at least a second). */
int ceph_admin(const char *root, unsigned timeout_ms, char *const *args, char **ret_output);
