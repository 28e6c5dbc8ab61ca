/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

/* Checks on the form of single values. Each returns NULL when the value is fine, else what it must be
 * ("a DNS label (...)"), to be used as "'name' must be <that>, got 'X'". */

const char *check_dns_label(const char *s);
const char *check_dns_name(const char *s);
const char *check_hostname_prefix(const char *s);
const char *check_ip_addr(const char *s);
const char *check_ip_prefix(const char *s);
const char *check_mac_addr(const char *s);
const char *check_bootstrap_token(const char *s);
const char *check_taint(const char *s);
const char *check_label_key(const char *s);
const char *check_label_value(const char *s);
const char *check_version(const char *s);
const char *check_device_path(const char *s);
const char *check_interface_name(const char *s);
const char *check_mqtt_acl(const char *s);
const char *check_mqtt_user(const char *s);
const char *check_config_key(const char *s);

bool is_dns_label(const char *s);
const char *check_config_value(const char *s);
const char *check_flag_value(const char *s);
const char *check_flag_name(const char *s);
