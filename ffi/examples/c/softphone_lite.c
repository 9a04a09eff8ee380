/*
 * softphone_lite: the smallest softphone on ocer's user agent. It registers
 * as alice, calls bob, shows the user what the failed call's response means
 * (MS-OCER: the ms-diagnostics ErrorId resolved to the Lync 2010 string),
 * waits until the error report has reached the server, and shuts down.
 *
 *   softphone_lite <server host:port | -> [udp|tcp|tls] [options]
 *
 * A server of "-" finds the pool by DNS from the AOR's domain (Lync's SRV
 * records), which also gives the transport. Options:
 *
 *   --user DOMAIN\user   --password PASSWORD   sign in (NTLM or digest)
 *   --auth auto|ntlm|digest                     which authentication (auto)
 *   --ca FILE.pem  --tls-name NAME              TLS: whom to trust, and the
 *                                               name the certificate carries
 *   --dns ADDRESS:PORT                          the DNS server to ask
 *
 * Exit status: 0 when the call failed and its report was sent, 1 otherwise,
 * 2 for bad arguments. The test suite runs it against SIPp (also behind
 * stunnel) and the pyspnego Lync registrar (ffi/tests/c_programs.rs).
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ocer.h"

#define LIT(s) (const uint8_t *)(s), strlen(s)

/* What the main thread waits for; the callback fills it in. */
struct app {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    char call_id[OCER_UA_CALL_ID_CAPACITY];
    int call_failed;
    int report_sent;
};

static const char *kind_name(ocer_event_kind kind) {
    switch (kind) {
    case OCER_EVENT_REGISTERING: return "registering";
    case OCER_EVENT_REGISTERED: return "registered";
    case OCER_EVENT_REGISTRATION_FAILED: return "registration-failed";
    case OCER_EVENT_UNREGISTERED: return "unregistered";
    case OCER_EVENT_PROGRESS: return "progress";
    case OCER_EVENT_ESTABLISHED: return "established";
    case OCER_EVENT_FAILED: return "failed";
    case OCER_EVENT_ENDED: return "ended";
    case OCER_EVENT_REPORT_QUEUED: return "report-queued";
    case OCER_EVENT_REPORT_SENT: return "report-sent";
    case OCER_EVENT_REPORT_DROPPED: return "report-dropped";
    case OCER_EVENT_REPORTING_SUSPENDED: return "reporting-suspended";
    default: return "unknown";
    }
}

/* On the event thread: print, and copy out what main needs (the event's
 * strings die when this returns). */
static void on_event(void *userdata, const ocer_event *e) {
    struct app *app = userdata;
    pthread_mutex_lock(&app->lock);
    printf("event %s", kind_name(e->kind));
    if (e->status != 0) {
        printf(" %u %.*s", (unsigned)e->status, OCER_STR_PRINTF(e->reason));
    }
    if (e->error_id != 0) {
        printf(" ms-diagnostics %u", (unsigned)e->error_id);
    }
    printf("\n");
    if (e->has_display) {
        printf("shown     %.*s\n", OCER_STR_PRINTF(e->message));
        printf("info      %.*s\n", OCER_STR_PRINTF(e->info));
        printf("message   %.*s (cause %u)\n", OCER_STR_PRINTF(e->message_id),
               (unsigned)e->cause.code);
    }
    if (e->kind == OCER_EVENT_FAILED && e->call_id.len == strlen(app->call_id) &&
        memcmp(e->call_id.ptr, app->call_id, e->call_id.len) == 0) {
        app->call_failed = 1;
    }
    if (e->kind == OCER_EVENT_REPORT_SENT) {
        app->report_sent = 1;
    }
    fflush(stdout);
    pthread_cond_broadcast(&app->changed);
    pthread_mutex_unlock(&app->lock);
}

static ocer_str arg_str(const char *s) {
    ocer_str out;
    out.ptr = (const uint8_t *)s;
    out.len = strlen(s);
    return out;
}

/* Reads the options after the transport into `config`; 0 when one is bad. */
static int parse_options(int argc, char **argv, ocer_ua_config *config) {
    int i;
    for (i = 3; i < argc; i += 2) {
        const char *name = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (value == NULL) {
            fprintf(stderr, "%s needs a value\n", name);
            return 0;
        }
        if (strcmp(name, "--user") == 0) {
            config->user = arg_str(value);
        } else if (strcmp(name, "--password") == 0) {
            config->password = arg_str(value);
        } else if (strcmp(name, "--ca") == 0) {
            config->tls_ca_file = arg_str(value);
        } else if (strcmp(name, "--tls-name") == 0) {
            config->tls_server_name = arg_str(value);
        } else if (strcmp(name, "--dns") == 0) {
            config->dns_server = arg_str(value);
        } else if (strcmp(name, "--auth") == 0 && strcmp(value, "auto") == 0) {
            config->auth = OCER_AUTH_AUTO;
        } else if (strcmp(name, "--auth") == 0 && strcmp(value, "ntlm") == 0) {
            config->auth = OCER_AUTH_NTLM;
        } else if (strcmp(name, "--auth") == 0 && strcmp(value, "digest") == 0) {
            config->auth = OCER_AUTH_DIGEST;
        } else {
            fprintf(stderr, "unknown option %s %s\n", name, value);
            return 0;
        }
    }
    return 1;
}

/* Prints what failed: the code's line, then the detail (which can be long:
 * a discovery that found nothing lists every DNS question). */
static int fail(const char *what, ocer_result r) {
    uint8_t *detail = NULL;
    size_t len = 0;
    if (ocer_last_error_message(NULL, 0, &len) == OCER_RESULT_INSUFFICIENT_SIZE &&
        (detail = malloc(len + 1)) != NULL &&
        ocer_last_error_message(detail, len + 1, &len) != OCER_RESULT_OK) {
        len = 0;
    }
    fprintf(stderr, "%s: %.*s (%.*s)\n", what, OCER_STR_PRINTF(ocer_result_describe(r)),
            detail != NULL ? (int)len : 0, detail != NULL ? (const char *)detail : "");
    free(detail);
    return 1;
}

/* Waits (app->lock held) until *flag is set, for at most `seconds`. */
static int wait_for(struct app *app, const int *flag, int seconds) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += seconds;
    while (!*flag) {
        if (pthread_cond_timedwait(&app->changed, &app->lock, &until) != 0) {
            return *flag;
        }
    }
    return 1;
}

int main(int argc, char **argv) {
    struct app app;
    ocer_ua_config config;
    ocer_ua *ua = NULL;
    char call_id[OCER_UA_CALL_ID_CAPACITY];
    size_t call_id_len = 0;
    ocer_result r;
    int ok;

    if (argc < 2) {
        fprintf(stderr, "usage: %s <server host:port | -> [udp|tcp|tls] [options]\n", argv[0]);
        return 2;
    }
    memset(&app, 0, sizeof app);
    pthread_mutex_init(&app.lock, NULL);
    pthread_cond_init(&app.changed, NULL);

    ocer_ua_config_default(&config);
    config.aor.ptr = (const uint8_t *)"sip:alice@contoso.com";
    config.aor.len = strlen("sip:alice@contoso.com");
    /* "-": no server, so ocer_ua_new discovers the pool. */
    if (strcmp(argv[1], "-") != 0) {
        config.server = arg_str(argv[1]);
    }
    config.transport = OCER_TRANSPORT_UDP;
    if (argc > 2 && strcmp(argv[2], "tcp") == 0) {
        config.transport = OCER_TRANSPORT_TCP;
    } else if (argc > 2 && strcmp(argv[2], "tls") == 0) {
        config.transport = OCER_TRANSPORT_TLS;
    }
    config.t1_ms = 100;
    if (!parse_options(argc, argv, &config)) {
        return 2;
    }
    if ((r = ocer_ua_new(&config, on_event, &app, &ua)) != OCER_RESULT_OK) {
        return fail("start", r);
    }

    if ((r = ocer_ua_register(ua)) != OCER_RESULT_OK) {
        fail("register", r);
        ocer_ua_free(ua);
        return 1;
    }

    /* Hold the lock across the call, so that its events wait until the
     * Call-ID is known. */
    pthread_mutex_lock(&app.lock);
    r = ocer_ua_call(ua, LIT("sip:bob@contoso.com"), NULL, 0, OCER_MODE_VOICE, OCER_ACTION_CALL,
                     (uint8_t *)call_id, sizeof call_id, &call_id_len);
    if (r != OCER_RESULT_OK) {
        pthread_mutex_unlock(&app.lock);
        fail("call", r);
        ocer_ua_free(ua);
        return 1;
    }
    memcpy(app.call_id, call_id, call_id_len + 1);
    printf("calling   %s\n", app.call_id);
    fflush(stdout);
    ok = wait_for(&app, &app.call_failed, 20) && wait_for(&app, &app.report_sent, 20);
    pthread_mutex_unlock(&app.lock);
    if (!ok) {
        fprintf(stderr, "the call did not fail, or its report was not sent, in time\n");
    }

    /* Unregisters, and returns once the last event has been delivered. */
    ocer_ua_free(ua);
    pthread_cond_destroy(&app.changed);
    pthread_mutex_destroy(&app.lock);
    printf("done\n");
    return ok ? 0 : 1;
}
