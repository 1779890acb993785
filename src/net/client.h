/* Internals of the edge client shared by client.c and client_shard.c. */
#ifndef SEAM_NET_CLIENT_H
#define SEAM_NET_CLIENT_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net.h"
#include "seam_net.h"

struct seam_client {
    char *base;   /* "http://host:port", no trailing '/' */
    char *auth;   /* "Authorization: Bearer KEY" or NULL */
    CURL *curl;   /* reused: one keep-alive connection for the whole generation */
    int timeout_s;
    uint64_t rate; /* shard download cap, bytes/s (0: none) */
    seam_client_stats st;
    char curl_err[CURL_ERROR_SIZE];
};

/* A response body, refused past `limit` bytes (a hostile server cannot make the edge
 * buffer more than it expects). */
typedef struct {
    uint8_t *data;
    size_t len, cap, limit;
    int overflow;
} membuf;

void membuf_free(membuf *m);
/* CURLOPT_WRITEFUNCTION appending to a membuf (userdata). */
size_t membuf_write(char *ptr, size_t size, size_t n, void *ud);
/* SEAM_ERR_NET with the server's {"error": {"message"}} when the body has one. */
seam_status client_server_error(const char *what, long status, const membuf *body, seam_error *err);
/* curl_easy_reset plus the options every request shares. */
void client_reset(seam_client *c, const char *url);
seam_status client_curl_error(seam_client *c, const char *what, int rc, seam_error *err);

#endif
