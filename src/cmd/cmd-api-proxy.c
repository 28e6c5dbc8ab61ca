/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include <event2/event.h>

#include "api-proxy.h"
#include "cmd.h"
#include "log.h"
#include "string-util.h"
#include "banned.h"

static void on_signal(evutil_socket_t sig, short events, void *userdata) {
        (void) events;
        log_info("api-proxy: signal %d, stopping", (int) sig);
        event_base_loopbreak(userdata);
}

int cmd_api_proxy(int argc, char **argv, const Options *o) {
        (void) o;
        if (argc - 1 > API_PROXY_MAX_UPSTREAMS) {
                log_error("api-proxy: %d upstreams, at most %d", argc - 1, API_PROXY_MAX_UPSTREAMS);
                return EXIT_USAGE;
        }
        /* A write to a connection its peer closed is an error of that relay, not a signal that ends the
         * service (systemd ignores SIGPIPE for it too, a shell does not). */
        if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
                log_error_errno(errno, "api-proxy: cannot ignore SIGPIPE");
                return EXIT_FAILED;
        }
        struct event_base *base = event_base_new();
        struct event *sigterm = base ? evsignal_new(base, SIGTERM, on_signal, base) : NULL;
        struct event *sigint = base ? evsignal_new(base, SIGINT, on_signal, base) : NULL;
        ApiProxy *p = NULL;
        int r = -ENOMEM, status = EXIT_FAILED;
        if (sigterm && sigint && evsignal_add(sigterm, NULL) >= 0 && evsignal_add(sigint, NULL) >= 0)
                r = api_proxy_new(base, argv[0], argv + 1, (size_t) (argc - 1), &p);
        if (r == -EINVAL) {
                log_error("api-proxy: the arguments are LISTEN UPSTREAM..., each ADDRESS:PORT or [IPV6]:PORT: %s %s ...",
                          argv[0], argv[1]);
                status = EXIT_USAGE;
        } else if (r < 0)
                log_error_errno(r, "api-proxy: cannot listen on %s", argv[0]);
        else {
                StrBuf b = {};
                for (int i = 1; i < argc; i++)
                        (void) strbuf_printf(&b, "%s%s", i > 1 ? ", " : "", argv[i]);
                _cleanup_free_ char *to = strbuf_steal(&b);
                log_info("api-proxy: %s relays to %s", argv[0], strempty(to));
                (void) sd_notifyf(0, "READY=1\nSTATUS=Relaying %s to %s", argv[0], strempty(to));
                status = event_base_dispatch(base) < 0 ? EXIT_FAILED : EXIT_DONE;
        }
        api_proxy_free(p);
        if (sigterm)
                event_free(sigterm);
        if (sigint)
                event_free(sigint);
        if (base)
                event_base_free(base);
        return status;
}
