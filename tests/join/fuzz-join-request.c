/* SPDX-License-Identifier: Apache-2.0 */
/* A join request from the network: parsed and verified as the server does (shape, timestamp, MAC), the same
 * bytes parsed as a renewal, and checked as an answer, as the client does. */
#include <stdint.h>
#include <stdlib.h>

#include "join-protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char secret[] = "fuzz-join-secret";
        JoinRequest r = {};
        const char *reason = NULL;
        if (join_request_parse((const char *) data, size, &r, &reason) >= 0) {
                (void) join_request_verify(&r, secret, (time_t) r.timestamp, &reason);
                join_request_done(&r);
        }
        if (join_renew_parse((const char *) data, size, &r, &reason) >= 0)
                join_request_done(&r);
        json_t *answer = NULL;
        if (size <= JOIN_BODY_MAX &&
            join_response_verify((const char *) data, size, secret, "00112233445566778899aabbccddeeff", &answer) >= 0)
                json_decref(answer);
        return 0;
}
