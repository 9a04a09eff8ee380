/*
 * decode_504: what a Lync 2010 user on a voice call sees for a failed call.
 *
 *   decode_504 REQUEST RESPONSE...
 *
 * REQUEST is the SIP request as sent, each RESPONSE a response to it, in
 * arrival order (files of raw SIP, CRLF line ends). With the MS-OCER §4.1
 * example (sdk/tests/fixtures/ms-ocer-4.1/):
 *
 *   decode_504 invite.sip 100.sip 101.sip 504.sip
 *
 * prints the final status, every ms-diagnostics header in the order the
 * display rule consults them (with the catalog's reason for its ErrorId),
 * and the Lync 2010 string for (voice, call).
 *
 * Build: cc -Iffi/include decode_504.c target/debug/libocer.a \
 *           -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc -o decode_504
 */
#define _POSIX_C_SOURCE 199309L

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ocer.h"

/* The caller's millisecond clock: the API only needs it to be monotonic. */
static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Reports a failed call with its code and detail; returns 0. */
static int failed(const char *what, ocer_result result) {
    uint8_t detail[1024];
    size_t len = 0;
    if (ocer_last_error_message(detail, sizeof detail, &len) != OCER_RESULT_OK) {
        len = 0;
    }
    fprintf(stderr, "decode_504: %s: %.*s: %.*s\n", what,
            OCER_STR_PRINTF(ocer_result_describe(result)), (int)len, (const char *)detail);
    return 0;
}

#define TRY(what, call)                                                                            \
    do {                                                                                           \
        ocer_result r_ = (call);                                                                   \
        if (r_ != OCER_RESULT_OK) {                                                                \
            ok = failed(what, r_);                                                                 \
            goto done;                                                                             \
        }                                                                                          \
    } while (0)

/* The whole file in a malloc'd buffer; NULL on error. */
static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long size;
    if (f == NULL) {
        perror(path);
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)size + 1);
        if (buf != NULL && fread(buf, 1, (size_t)size, f) == (size_t)size) {
            *len = (size_t)size;
        } else {
            free(buf);
            buf = NULL;
            fprintf(stderr, "decode_504: cannot read %s\n", path);
        }
    }
    fclose(f);
    return buf;
}

/* One diagnostics header of the record, with what the Lync Server 2010
 * catalog says its ErrorId means. */
static void print_diagnostic(const ocer_diagnostic *d) {
    ocer_catalog_entry entry;
    size_t rows = 0;
    ocer_str reason = {NULL, 0};
    ocer_result result;
    printf("msdiag    ");
    if (!d->parsed) {
        printf("(does not parse) %.*s\n", OCER_STR_PRINTF(d->raw));
        return;
    }
    printf("%u on %s %u", (unsigned)d->error_id,
           d->origin == OCER_DIAG_ORIGIN_FINAL ? "final" : "provisional", (unsigned)d->status);
    if (ocer_diag_header_reason(d->header, &reason) == OCER_RESULT_OK && reason.ptr != NULL) {
        printf(", reason \"%.*s\"", OCER_STR_PRINTF(reason));
    }
    /* Room for one row: an id listed twice still gets its first row. */
    result = ocer_catalog_lookup(OCER_CATALOG_LYNC_SERVER_2010, d->error_id, &entry, 1, &rows);
    if ((result == OCER_RESULT_OK || result == OCER_RESULT_INSUFFICIENT_SIZE) && rows > 0) {
        printf("\n          catalog %.*s %.*s: %.*s", OCER_STR_PRINTF(entry.section),
               OCER_STR_PRINTF(entry.component), OCER_STR_PRINTF(entry.reason));
    }
    printf("\n");
}

int main(int argc, char **argv) {
    int ok = 1;
    int i;
    size_t k;
    uint8_t *bytes = NULL;
    size_t len = 0;
    ocer_collector *collector = NULL;
    ocer_record *record = NULL;
    ocer_localizer *localizer = NULL;
    ocer_display *display = NULL;
    ocer_request_identity id;
    ocer_final_response fin;
    ocer_counts counts;
    ocer_diagnostic diag;
    ocer_str text;

    if (argc < 3) {
        fprintf(stderr, "usage: %s REQUEST RESPONSE...\n", argv[0]);
        return 2;
    }

    /* The request starts the transaction; each response is observed in turn. */
    if ((bytes = read_file(argv[1], &len)) == NULL) {
        return 1;
    }
    TRY("request", ocer_collector_new(bytes, len, now_ms(), NULL, &collector));
    for (i = 2; i < argc; i++) {
        free(bytes);
        if ((bytes = read_file(argv[i], &len)) == NULL) {
            ok = 0;
            goto done;
        }
        TRY(argv[i], ocer_collector_observe_response(collector, bytes, len, now_ms()));
    }
    TRY("finish", ocer_collector_finish(collector, &record));
    collector = NULL; /* consumed */

    TRY("identity", ocer_record_identity(record, &id));
    printf("request   %.*s (Call-ID %.*s, CSeq %u)\n", OCER_STR_PRINTF(id.method),
           OCER_STR_PRINTF(id.call_id), (unsigned)id.cseq);
    TRY("final response", ocer_record_final_response(record, &fin));
    printf("final     %u %.*s\n", (unsigned)fin.status, OCER_STR_PRINTF(fin.reason_phrase));
    TRY("counts", ocer_record_counts(record, &counts));
    for (k = 0; k < counts.diagnostics; k++) {
        TRY("diagnostic", ocer_record_diagnostic(record, k, &diag));
        print_diagnostic(&diag);
    }

    /* The string: MS-OCER 9.1.1's priority rule, en-US, no Windows error. */
    TRY("localizer", ocer_localizer_new(OCER_ISOLATION_OFF, &localizer));
    TRY("resolve", ocer_localizer_resolve(localizer, record, OCER_STRING_SET_LYNC2010,
                                          OCER_MODE_VOICE, OCER_ACTION_CALL, (const uint8_t *)"",
                                          0, 0, NULL, &display));
    TRY("message", ocer_display_headline(display, &text));
    printf("shown     %.*s\n", OCER_STR_PRINTF(text));
    TRY("info", ocer_display_info(display, &text));
    if (text.ptr != NULL) {
        printf("info      %.*s\n", OCER_STR_PRINTF(text));
    }
    TRY("message id", ocer_display_message_id(display, &text));
    printf("message   %.*s", OCER_STR_PRINTF(text));
    TRY("locale", ocer_display_locale(display, &text));
    printf(" (%.*s)\n", OCER_STR_PRINTF(text));

done:
    free(bytes);
    ocer_display_free(display);
    ocer_localizer_free(localizer);
    ocer_record_free(record);
    ocer_collector_free(collector);
    return ok ? 0 : 1;
}
