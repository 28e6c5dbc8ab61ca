/* SPDX-License-Identifier: Apache-2.0 */
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "health.h"
#include "macro.h"
#include "string-util.h"
#include "banned.h"

#define BODY_MAX 4096

int health_tcp(const IpAddr *ip, int port, unsigned timeout_ms, char **ret_why) {
        struct sockaddr_storage sa = {};
        socklen_t len;
        if (ip->family == AF_INET6) {
                struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) &sa;
                s6->sin6_family = AF_INET6;
                s6->sin6_port = htons((uint16_t) port);
                memcpy(&s6->sin6_addr, ip->bytes, 16);
                len = sizeof(*s6);
        } else {
                struct sockaddr_in *s4 = (struct sockaddr_in *) &sa;
                s4->sin_family = AF_INET;
                s4->sin_port = htons((uint16_t) port);
                memcpy(&s4->sin_addr, ip->bytes, 4);
                len = sizeof(*s4);
        }
        int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        int r = connect(fd, (struct sockaddr *) &sa, len) < 0 ? -errno : 0;
        if (r == -EINPROGRESS) {
                struct pollfd p = { .fd = fd, .events = POLLOUT };
                int k = poll(&p, 1, (int) timeout_ms);
                if (k == 0)
                        r = -ETIMEDOUT;
                else if (k < 0)
                        r = -errno;
                else {
                        int err = 0;
                        socklen_t el = sizeof(err);
                        r = getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 ? -errno : -err;
                }
        }
        close(fd);
        if (r < 0) {
                if (ret_why)
                        *ret_why = strprintf("port %d: %s", port, strerror(-r));
                return -EAGAIN;
        }
        if (ret_why)
                *ret_why = strprintf("port %d accepts connections", port);
        return 0;
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *userdata) {
        StrBuf *b = userdata;
        size_t n = size * nmemb;
        if (b->len < BODY_MAX)
                (void) strbuf_appendn(b, p, MIN(n, BODY_MAX - b->len));
        return n;
}

int health_http(const char *url, const char *ca_file, const char *expect, unsigned timeout_ms, char **ret_why) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return -EIO;
        CURL *c = curl_easy_init();
        StrBuf body = {};
        char errbuf[CURL_ERROR_SIZE] = "";
        long status = 0;
        int r = -EAGAIN;
        if (!c) {
                curl_global_cleanup();
                return -ENOMEM;
        }
        CURLcode e = curl_easy_setopt(c, CURLOPT_URL, url);
        e = e ?: curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        e = e ?: curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
        e = e ?: curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long) timeout_ms);
        e = e ?: curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        e = e ?: curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        e = e ?: curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        e = e ?: curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
        if (ca_file) {
                e = e ?: curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
                e = e ?: curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
        }
        else {
                e = e ?: curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
                e = e ?: curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        e = e ?: curl_easy_perform(c);
        if (e == CURLE_OK)
                curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(c);
        curl_global_cleanup();

        _cleanup_free_ char *shown = str_escape_display(body.s ? body.s : "");
        if (e != CURLE_OK) {
                if (ret_why)
                        *ret_why = strprintf("GET %s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(e));
        } else if (status != 200 || (expect && !startswith(strempty(body.s), expect))) {
                if (ret_why)
                        *ret_why = strprintf("GET %s: HTTP %ld '%.60s'", url, status, strempty(shown));
        } else {
                if (ret_why)
                        *ret_why = strprintf("GET %s: HTTP 200 '%.60s'", url, strempty(shown));
                r = 0;
        }
        strbuf_done(&body);
        return r;
}
