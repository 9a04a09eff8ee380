/*
 * Tests of every entry point of the C API: success, the documented
 * failures, NULL parameters, and that failed calls leave outputs untouched.
 * Built by ffi/tests/c_programs.rs with -Wall -Wextra -Werror and run under
 * ASan + UBSan and under valgrind; every object made here is freed, so any
 * leak is the library's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocer.h"

static int checks = 0;
static int failures = 0;

static void check(int ok, const char *file, int line, const char *what) {
    checks++;
    if (!ok) {
        failures++;
        fprintf(stderr, "%s:%d: CHECK failed: %s\n", file, line, what);
    }
}

static void check_result(ocer_result got, ocer_result want, const char *file, int line,
                         const char *what) {
    checks++;
    if (got != want) {
        uint8_t detail[512];
        size_t len = 0;
        failures++;
        if (ocer_last_error_message(detail, sizeof detail, &len) != OCER_RESULT_OK) {
            len = 0;
        }
        fprintf(stderr, "%s:%d: %s returned %u (%.*s), expected %u; last error: %.*s\n", file,
                line, what, (unsigned)got, OCER_STR_PRINTF(ocer_result_describe(got)),
                (unsigned)want, (int)len, (const char *)detail);
    }
}

#define CHECK(cond) check((cond) ? 1 : 0, __FILE__, __LINE__, #cond)
#define EXPECT(want, call) check_result((call), (want), __FILE__, __LINE__, #call)
#define OK(call) EXPECT(OCER_RESULT_OK, call)

/* A string literal as the (ptr, len) pair of an input string. */
#define LIT(s) (const uint8_t *)(s), (sizeof(s) - 1)

static int str_is(ocer_str s, const char *want) {
    size_t n = strlen(want);
    return s.ptr != NULL && s.len == n && memcmp(s.ptr, want, n) == 0;
}

static int str_has(ocer_str s, const char *needle) {
    size_t n = strlen(needle);
    size_t i;
    if (s.ptr == NULL || s.len < n) {
        return 0;
    }
    for (i = 0; i + n <= s.len; i++) {
        if (memcmp(s.ptr + i, needle, n) == 0) {
            return 1;
        }
    }
    return 0;
}

static int last_error_has(const char *needle) {
    uint8_t buf[2048];
    size_t len = 0;
    ocer_str s;
    if (ocer_last_error_message(buf, sizeof buf, &len) != OCER_RESULT_OK) {
        return 0;
    }
    s.ptr = buf;
    s.len = len;
    return str_has(s, needle);
}

/* The MS-OCER §4.1 call: INVITE, 101 Progress Report, 504 Server time-out. */
#define VIA "Via: SIP/2.0/TLS 192.168.66.91:49541;branch=z9hG4bK41\r\n"
#define FROM "From: <sip:alice@contoso.com>;tag=d1efe7a825\r\n"
#define CALL_ID "Call-ID: f5290007af32443f8a82daa76c934880\r\n"
#define TO_TAGGED "To: <sip:bob@contoso.com;user=phone>;tag=66643C5C\r\n"

static const char INVITE[] =
    "INVITE sip:bob@contoso.com;user=phone SIP/2.0\r\n" VIA FROM
    "To: <sip:bob@contoso.com;user=phone>\r\n" CALL_ID "CSeq: 1 INVITE\r\n"
    "Content-Type: application/sdp;call-type=audiovideo\r\n"
    "Content-Length: 0\r\n\r\n";

static const char TRYING[] = "SIP/2.0 100 Trying\r\n" VIA FROM
                             "To: <sip:bob@contoso.com;user=phone>\r\n" CALL_ID
                             "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

static const char PROGRESS[] =
    "SIP/2.0 101 Progress Report\r\n" VIA FROM TO_TAGGED CALL_ID "CSeq: 1 INVITE\r\n"
    "ms-diagnostics: 12006;reason=\"Trying next hop\";appName=\"OutboundRouting\"\r\n"
    "Content-Length: 0\r\n\r\n";

static const char TIMEOUT[] =
    "SIP/2.0 504 Server time-out\r\n" VIA FROM TO_TAGGED CALL_ID "CSeq: 1 INVITE\r\n"
    "ms-diagnostics: 1007;reason=\"Temporarily cannot route\";source=\"server.contoso.com\"\r\n"
    "Warning: 399 server.contoso.com \"Routing failed\"\r\n"
    "Retry-After: 120\r\n"
    "Content-Length: 0\r\n\r\n";

static const char BUSY[] = "SIP/2.0 486 Busy Here\r\n" VIA FROM TO_TAGGED CALL_ID
                           "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

static const char OK_200[] = "SIP/2.0 200 OK\r\n" VIA FROM TO_TAGGED CALL_ID
                             "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

static const char BYE[] = "BYE sip:alice@contoso.com SIP/2.0\r\n"
                          "Via: SIP/2.0/TLS 10.0.0.1:5061;branch=z9hG4bKbye\r\n"
                          "From: <sip:bob@contoso.com;user=phone>;tag=66643C5C\r\n"
                          "To: <sip:alice@contoso.com>;tag=d1efe7a825\r\n" CALL_ID
                          "CSeq: 7 BYE\r\n"
                          "ms-diagnostics: garbage-not-an-id\r\n"
                          "Content-Length: 0\r\n\r\n";

static const char OPTIONS[] = "OPTIONS sip:alice@contoso.com SIP/2.0\r\n"
                              "Via: SIP/2.0/TLS 10.0.0.1:5061;branch=z9hG4bKopt\r\n"
                              "From: <sip:bob@contoso.com>;tag=x\r\n"
                              "To: <sip:alice@contoso.com>\r\n" CALL_ID
                              "CSeq: 8 OPTIONS\r\nContent-Length: 0\r\n\r\n";

static const char OTHER_CALL[] = "SIP/2.0 486 Busy Here\r\n" VIA FROM TO_TAGGED
                                 "Call-ID: another-call\r\nCSeq: 1 INVITE\r\n"
                                 "Content-Length: 0\r\n\r\n";

/* Collects INVITE + the given responses (at 1000 ms + 800 ms each). */
static ocer_record *collect(const char *const *responses, size_t count) {
    ocer_collector *collector = NULL;
    ocer_record *record = NULL;
    size_t i;
    OK(ocer_collector_new(LIT(INVITE), 1000, NULL, &collector));
    for (i = 0; i < count; i++) {
        OK(ocer_collector_observe_response(collector, (const uint8_t *)responses[i],
                                           strlen(responses[i]), 1000 + 800 * (i + 1)));
    }
    OK(ocer_collector_finish(collector, &record));
    return record;
}

/* As collect, then the collector is told how the transaction ended:
   'T' timeout, 'C' cancelled by the user, 'L' a TLS handshake failure, 'R' connection refused (111). */
static ocer_record *collect_ended(const char *const *responses, size_t count, char how) {
    ocer_collector *collector = NULL;
    ocer_record *record = NULL;
    size_t i;
    OK(ocer_collector_new(LIT(INVITE), 1000, NULL, &collector));
    for (i = 0; i < count; i++) {
        OK(ocer_collector_observe_response(collector, (const uint8_t *)responses[i],
                                           strlen(responses[i]), 1000 + 800 * (i + 1)));
    }
    if (how == 'T') {
        OK(ocer_collector_observe_timeout(collector));
    } else if (how == 'C') {
        OK(ocer_collector_observe_cancel(collector));
    } else if (how == 'L') {
        OK(ocer_collector_observe_transport_failure(collector, OCER_TRANSPORT_FAILURE_TLS, 0));
    } else {
        OK(ocer_collector_observe_transport_failure(collector, OCER_TRANSPORT_FAILURE_CONNECTION_REFUSED, 111));
    }
    EXPECT(OCER_RESULT_INVALID_ARGUMENT, ocer_collector_observe_transport_failure(collector, 99, 0));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_collector_observe_timeout(NULL));
    OK(ocer_collector_finish(collector, &record));
    return record;
}

static void test_version_and_results(void) {
    ocer_str v = ocer_version();
    ocer_str s;
    uint8_t buf[64];
    size_t len = 12345;

    CHECK(v.ptr != NULL && v.len >= 5 && v.ptr[0] >= '0' && v.ptr[0] <= '9');
    CHECK(str_is(ocer_result_describe(OCER_RESULT_OK), "success"));
    CHECK(str_has(ocer_result_describe(OCER_RESULT_SIP_MALFORMED), "SIP message"));
    CHECK(str_is(ocer_result_describe(4242), "unknown result code"));
    /* The numbers are the ABI. */
    CHECK(OCER_RESULT_PANIC == 1 && OCER_RESULT_NULL_PARAMETER == 2);
    CHECK(OCER_RESULT_NOT_A_FAILURE == 9 && OCER_RESULT_SIP_MALFORMED == 100);
    CHECK(OCER_RESULT_COLLECTOR_REFUSED == 303 && OCER_RESULT_REPORT_REFUSED == 504);

    /* The last error: size it, then read it; a NULL len_out is refused. */
    EXPECT(OCER_RESULT_INVALID_ARGUMENT, ocer_catalog_component(9, 1, &s));
    EXPECT(OCER_RESULT_INSUFFICIENT_SIZE, ocer_last_error_message(NULL, 0, &len));
    CHECK(len == strlen("unknown ocer_catalog 9"));
    EXPECT(OCER_RESULT_INSUFFICIENT_SIZE, ocer_last_error_message(buf, len, &len));
    OK(ocer_last_error_message(buf, len + 1, &len));
    CHECK(len == strlen("unknown ocer_catalog 9") && strcmp((const char *)buf, "unknown ocer_catalog 9") == 0);
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_last_error_message(buf, sizeof buf, NULL));
    /* Reading it, even failing to, does not change it. */
    CHECK(last_error_has("unknown ocer_catalog 9"));
}

static void test_diag_header(void) {
    static const char value[] = "1007; reason=\"Temporarily cannot\r\n route\";"
                                "source=\"server.contoso.com\";appName=\"OutboundRouting\";Flag";
    ocer_diag_header *h = NULL;
    ocer_diag_header *untouched = (ocer_diag_header *)&checks;
    ocer_header_kind kind = 99;
    uint32_t id = 0;
    size_t count = 0;
    ocer_str s, name, val;

    OK(ocer_diag_header_parse(OCER_HEADER_KIND_PRIVATE, LIT(value), &h));
    CHECK(h != NULL);
    OK(ocer_diag_header_kind(h, &kind));
    CHECK(kind == OCER_HEADER_KIND_PRIVATE);
    OK(ocer_diag_header_error_id(h, &id));
    CHECK(id == 1007);
    OK(ocer_diag_header_reason(h, &s));
    CHECK(str_is(s, "Temporarily cannot route"));
    OK(ocer_diag_header_source(h, &s));
    CHECK(str_is(s, "server.contoso.com"));
    OK(ocer_diag_header_param_count(h, &count));
    CHECK(count == 2);
    OK(ocer_diag_header_param(h, 0, &name, &val));
    CHECK(str_is(name, "appName") && str_is(val, "OutboundRouting"));
    OK(ocer_diag_header_param(h, 1, &name, &val));
    CHECK(str_is(name, "Flag") && val.ptr == NULL && val.len == 0);
    EXPECT(OCER_RESULT_INDEX_OUT_OF_RANGE, ocer_diag_header_param(h, 2, &name, &val));
    OK(ocer_diag_header_param_find(h, LIT("APPNAME"), &val));
    CHECK(str_is(val, "OutboundRouting"));
    EXPECT(OCER_RESULT_NOT_FOUND, ocer_diag_header_param_find(h, LIT("reason"), &val));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_diag_header_param_find(h, NULL, 3, &val));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_diag_header_reason(h, NULL));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_diag_header_param(h, 0, NULL, &val));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_diag_header_param(h, 0, &name, NULL));
    ocer_diag_header_free(h);

    /* A whole line; the public header has no source. */
    OK(ocer_diag_header_parse_line(
        LIT("MS-Diagnostics-Public: 2019;reason=\"Report error service is not available\""), &h));
    OK(ocer_diag_header_kind(h, &kind));
    CHECK(kind == OCER_HEADER_KIND_PUBLIC);
    OK(ocer_diag_header_source(h, &s));
    CHECK(s.ptr == NULL && s.len == 0);
    OK(ocer_diag_header_param_count(h, &count));
    CHECK(count == 0);
    ocer_diag_header_free(h);

    /* Failures leave the output alone and say why. */
    h = untouched;
    EXPECT(OCER_RESULT_DIAG_MALFORMED, ocer_diag_header_parse(OCER_HEADER_KIND_PRIVATE,
                                                              LIT("1007;reason=unquoted"), &h));
    CHECK(h == untouched && last_error_has("reason at byte 12"));
    EXPECT(OCER_RESULT_DIAG_MALFORMED, ocer_diag_header_parse_line(LIT("Warning: 399 x \"y\""), &h));
    EXPECT(OCER_RESULT_INVALID_ARGUMENT, ocer_diag_header_parse(2, LIT("1007"), &h));
    EXPECT(OCER_RESULT_INVALID_UTF8,
           ocer_diag_header_parse(OCER_HEADER_KIND_PRIVATE, LIT("1007;reason=\"\xff\""), &h));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_diag_header_parse(OCER_HEADER_KIND_PRIVATE, NULL, 4, &h));
    EXPECT(OCER_RESULT_DIAG_MALFORMED, ocer_diag_header_parse(OCER_HEADER_KIND_PRIVATE, NULL, 0, &h));
    CHECK(h == untouched);
    EXPECT(OCER_RESULT_NULL_PARAMETER,
           ocer_diag_header_parse(OCER_HEADER_KIND_PRIVATE, LIT("1007"), NULL));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_diag_header_parse_line(LIT("ms-diagnostics: 1"), NULL));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_diag_header_kind(NULL, &kind));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_diag_header_error_id(NULL, &id));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_diag_header_source(NULL, &s));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_diag_header_param_count(NULL, &count));
    ocer_diag_header_free(NULL);
}

static void test_catalog(void) {
    ocer_catalog_entry rows[4];
    size_t count = 0;
    ocer_str component;

    OK(ocer_catalog_lookup(OCER_CATALOG_LYNC_SERVER_2010, 1007, rows, 4, &count));
    CHECK(count == 1);
    CHECK(rows[0].catalog == OCER_CATALOG_LYNC_SERVER_2010 && rows[0].error_id == 1007);
    CHECK(str_is(rows[0].component, "SipStack") && str_is(rows[0].section, "7.2"));
    CHECK(str_is(rows[0].reason, "Temporarily cannot route."));
    CHECK(str_is(rows[0].header, "ms-diagnostics"));
    CHECK(rows[0].direction == OCER_DIRECTION_RESPONSE);

    /* Ask for the count first, then too little room: the first rows come. */
    EXPECT(OCER_RESULT_INSUFFICIENT_SIZE, ocer_catalog_lookup(OCER_CATALOG_OCS_2007, 3069, NULL, 0, &count));
    CHECK(count == 2);
    memset(rows, 0, sizeof rows);
    EXPECT(OCER_RESULT_INSUFFICIENT_SIZE, ocer_catalog_lookup(OCER_CATALOG_OCS_2007, 3069, rows, 1, &count));
    CHECK(count == 2 && rows[0].error_id == 3069 && rows[1].error_id == 0);
    OK(ocer_catalog_lookup(OCER_CATALOG_OCS_2007, 3069, rows, 4, &count));
    CHECK(count == 2 && rows[1].error_id == 3069 && rows[1].catalog == OCER_CATALOG_OCS_2007);

    OK(ocer_catalog_lookup(OCER_CATALOG_LYNC_SERVER_2010, 4000000000u, rows, 4, &count));
    CHECK(count == 0);
    EXPECT(OCER_RESULT_INVALID_ARGUMENT, ocer_catalog_lookup(7, 1007, rows, 4, &count));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_catalog_lookup(OCER_CATALOG_LYNC_SERVER_2010, 1007, NULL, 4, &count));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_catalog_lookup(OCER_CATALOG_LYNC_SERVER_2010, 1007, rows, 4, NULL));

    /* An id no row lists still has the component of its range. */
    OK(ocer_catalog_component(OCER_CATALOG_LYNC_SERVER_2010, 1999, &component));
    CHECK(str_is(component, "SipStack"));
    OK(ocer_catalog_component(OCER_CATALOG_LYNC_SERVER_2010, 4000000000u, &component));
    CHECK(component.ptr == NULL && component.len == 0);
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_catalog_component(OCER_CATALOG_OCS_2007, 1, NULL));
}

static void test_collector(void) {
    ocer_collector_limits limits;
    ocer_collector *c = NULL;
    ocer_collector *untouched = (ocer_collector *)&checks;
    ocer_record *record = NULL;
    ocer_counts counts;
    bool has_final = true;

    OK(ocer_collector_limits_default(&limits));
    CHECK(limits.max_progress_reports == 32 && limits.max_server_requests == 4);
    CHECK(limits.max_diag_header_chars == 65535 && limits.max_header_bytes == 128 * 1024);
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_collector_limits_default(NULL));

    /* No progress report kept: the 101's diagnostics are counted as dropped. */
    limits.max_progress_reports = 0;
    OK(ocer_collector_new(LIT(INVITE), 5000, &limits, &c));
    OK(ocer_collector_has_final(c, &has_final));
    CHECK(!has_final);
    OK(ocer_collector_observe_response(c, LIT(TRYING), 5100));
    OK(ocer_collector_observe_response(c, LIT(PROGRESS), 5800));
    EXPECT(OCER_RESULT_COLLECTOR_WRONG_MESSAGE_KIND, ocer_collector_observe_response(c, LIT(INVITE), 5900));
    EXPECT(OCER_RESULT_COLLECTOR_NOT_THIS_TRANSACTION, ocer_collector_observe_response(c, LIT(OTHER_CALL), 5900));
    CHECK(last_error_has("Call-ID"));
    EXPECT(OCER_RESULT_SIP_MALFORMED, ocer_collector_observe_response(c, LIT("not SIP at all\r\n\r\n"), 5900));
    EXPECT(OCER_RESULT_SIP_MALFORMED, ocer_collector_observe_response(c, LIT(""), 5900));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_collector_observe_response(c, NULL, 10, 5900));
    OK(ocer_collector_observe_response(c, LIT(OK_200), 6000));
    OK(ocer_collector_observe_response(c, LIT(OK_200), 6100)); /* a retransmission */
    OK(ocer_collector_has_final(c, &has_final));
    CHECK(has_final);

    /* The server ends the call; an OPTIONS is no BYE or CANCEL. */
    OK(ocer_collector_observe_server_request(c, LIT(BYE), 60000));
    EXPECT(OCER_RESULT_COLLECTOR_NOT_BYE_OR_CANCEL, ocer_collector_observe_server_request(c, LIT(OPTIONS), 60001));
    EXPECT(OCER_RESULT_COLLECTOR_WRONG_MESSAGE_KIND, ocer_collector_observe_server_request(c, LIT(BUSY), 60001));
    EXPECT(OCER_RESULT_SIP_MALFORMED, ocer_collector_observe_server_request(c, LIT("BYE\r\n\r\n"), 60001));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_collector_observe_server_request(NULL, LIT(BYE), 60001));

    /* A failed finish leaves the collector to its owner. */
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_collector_finish(c, NULL));
    OK(ocer_collector_finish(c, &record));
    OK(ocer_record_counts(record, &counts));
    CHECK(counts.progress_reports == 0 && counts.dropped_progress_reports == 1);
    CHECK(counts.provisional_responses == 2 && counts.responses_after_final == 1);
    CHECK(counts.server_requests == 1 && counts.diagnostics == 1 && counts.final_diagnostics == 0);
    ocer_record_free(record);

    /* Constructors: not a request, not SIP, NULL. */
    c = untouched;
    EXPECT(OCER_RESULT_SIP_REQUEST_IDENTITY, ocer_collector_new(LIT(BUSY), 0, NULL, &c));
    EXPECT(OCER_RESULT_SIP_MALFORMED, ocer_collector_new(LIT("hello\r\n\r\n"), 0, NULL, &c));
    CHECK(last_error_has("request"));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_collector_new(NULL, 5, 0, NULL, &c));
    CHECK(c == untouched);
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_collector_new(LIT(INVITE), 0, NULL, NULL));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_collector_has_final(NULL, &has_final));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_collector_finish(NULL, &record));

    /* A collector that is never finished is freed. */
    OK(ocer_collector_new(LIT(INVITE), 0, NULL, &c));
    OK(ocer_collector_observe_response(c, LIT(PROGRESS), 10));
    ocer_collector_free(c);
    ocer_collector_free(NULL);
}

static void test_record(void) {
    const char *const responses[] = {TRYING, PROGRESS, TIMEOUT};
    ocer_record *record = collect(responses, 3);
    ocer_record *unanswered = collect(responses, 2);
    uint16_t status = 1;
    bool failed = false;
    ocer_final_response fin;
    ocer_record_end end;
    ocer_request_identity id;
    ocer_counts counts;
    uint32_t ids[4] = {0, 0, 0, 0};
    size_t count = 0;
    ocer_diagnostic d;
    ocer_warning w;
    ocer_str reason;
    uint32_t header_id = 0;

    OK(ocer_record_final_status(record, &status));
    CHECK(status == 504);
    OK(ocer_record_is_failure(record, &failed));
    CHECK(failed);
    OK(ocer_record_final_response(record, &fin));
    CHECK(fin.status == 504 && str_is(fin.reason_phrase, "Server time-out"));
    CHECK(fin.at_ms == 2400 && fin.has_retry_after && fin.retry_after_seconds == 120);

    OK(ocer_record_identity(record, &id));
    CHECK(str_is(id.from_uri, "sip:alice@contoso.com") && str_is(id.from_tag, "d1efe7a825"));
    CHECK(str_is(id.to_uri, "sip:bob@contoso.com;user=phone") && str_is(id.to_tag, "66643C5C"));
    CHECK(str_is(id.call_id, "f5290007af32443f8a82daa76c934880") && id.cseq == 1);
    CHECK(str_is(id.method, "INVITE") && str_is(id.content_type, "application/sdp;call-type=audiovideo"));

    OK(ocer_record_counts(record, &counts));
    CHECK(counts.diagnostics == 2 && counts.final_diagnostics == 1 && counts.progress_reports == 1);
    CHECK(counts.provisional_responses == 2 && counts.server_requests == 0 && counts.warnings == 1);
    CHECK(counts.dropped_progress_reports == 0 && counts.truncated_headers == 0);

    /* The priority order: the final response first, then progress reports. */
    OK(ocer_record_error_ids(record, ids, 4, &count));
    CHECK(count == 2 && ids[0] == 1007 && ids[1] == 12006);
    ids[0] = ids[1] = 0;
    EXPECT(OCER_RESULT_INSUFFICIENT_SIZE, ocer_record_error_ids(record, ids, 1, &count));
    CHECK(count == 2 && ids[0] == 1007 && ids[1] == 0);
    EXPECT(OCER_RESULT_INSUFFICIENT_SIZE, ocer_record_error_ids(record, NULL, 0, &count));
    CHECK(count == 2);

    OK(ocer_record_diagnostic(record, 0, &d));
    CHECK(d.kind == OCER_HEADER_KIND_PRIVATE && d.origin == OCER_DIAG_ORIGIN_FINAL);
    CHECK(d.status == 504 && d.parsed && !d.truncated && d.error_id == 1007 && d.at_ms == 2400);
    CHECK(d.method.ptr == NULL && str_has(d.raw, "source=\"server.contoso.com\""));
    /* The lent header works with every ocer_diag_header getter. */
    CHECK(d.header != NULL);
    OK(ocer_diag_header_error_id(d.header, &header_id));
    CHECK(header_id == 1007);
    OK(ocer_diag_header_reason(d.header, &reason));
    CHECK(str_is(reason, "Temporarily cannot route"));
    OK(ocer_record_diagnostic(record, 1, &d));
    CHECK(d.origin == OCER_DIAG_ORIGIN_PROVISIONAL && d.status == 101 && d.error_id == 12006);
    CHECK(d.at_ms == 1600);
    EXPECT(OCER_RESULT_INDEX_OUT_OF_RANGE, ocer_record_diagnostic(record, 2, &d));

    OK(ocer_record_warning(record, 0, &w));
    CHECK(w.code == 399 && str_is(w.text, "Routing failed"));
    EXPECT(OCER_RESULT_INDEX_OUT_OF_RANGE, ocer_record_warning(record, 1, &w));

    /* No final response. */
    OK(ocer_record_final_status(unanswered, &status));
    CHECK(status == 0);
    OK(ocer_record_is_failure(unanswered, &failed));
    CHECK(failed);
    EXPECT(OCER_RESULT_NOT_FOUND, ocer_record_final_response(unanswered, &fin));
    OK(ocer_record_ending(unanswered, &end));
    CHECK(end.ending == OCER_ENDING_OPEN && end.windows == 0);
    OK(ocer_record_ending(record, &end));
    CHECK(end.ending == OCER_ENDING_FINAL);
    {
        /* How it ended is in the record, and display maps a transport
           failure to a Windows error: a TLS failure is Schannel's, never a 408. */
        const char *const trying[] = {TRYING};
        ocer_record *timed_out = collect_ended(trying, 1, 'T');
        ocer_record *tls = collect_ended(trying, 0, 'L');
        OK(ocer_record_ending(timed_out, &end));
        CHECK(end.ending == OCER_ENDING_TIMEOUT);
        OK(ocer_record_ending(tls, &end));
        CHECK(end.ending == OCER_ENDING_TRANSPORT && end.transport == OCER_TRANSPORT_FAILURE_TLS);
        CHECK(end.windows == 0x80090326u && end.os_error == 0);
        ocer_record_free(timed_out);
        ocer_record_free(tls);
    }
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_record_ending(record, NULL));

    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_record_final_status(NULL, &status));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_record_is_failure(record, NULL));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_record_identity(NULL, &id));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_record_counts(record, NULL));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_record_error_ids(record, NULL, 3, &count));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_record_diagnostic(NULL, 0, &d));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_record_warning(record, 0, NULL));
    ocer_record_free(record);
    ocer_record_free(unanswered);
    ocer_record_free(NULL);
}

/* A server-ended call whose BYE carries a diagnostics value that does not parse. */
static void test_unparsed_diagnostic(void) {
    ocer_collector *c = NULL;
    ocer_record *record = NULL;
    ocer_diagnostic d;
    size_t count = 9;

    OK(ocer_collector_new(LIT(INVITE), 0, NULL, &c));
    OK(ocer_collector_observe_response(c, LIT(OK_200), 100));
    OK(ocer_collector_observe_server_request(c, LIT(BYE), 30000));
    OK(ocer_collector_finish(c, &record));
    OK(ocer_record_diagnostic(record, 0, &d));
    CHECK(d.origin == OCER_DIAG_ORIGIN_SERVER_REQUEST && d.status == 0 && str_is(d.method, "BYE"));
    CHECK(!d.parsed && d.header == NULL && d.error_id == 0 && str_is(d.raw, "garbage-not-an-id"));
    CHECK(d.at_ms == 30000);
    OK(ocer_record_error_ids(record, NULL, 0, &count));
    CHECK(count == 0);
    ocer_record_free(record);
}

static const char GERMAN[] =
    "lync2010-sip-504-voice-call = Der Vorgang war nicht erfolgreich.\n"
    "    .info = Der Anrufdienst hat nicht geantwortet.\n"
    "lync2010-sip-486-voice-call = { $user } telefoniert gerade.\n";

static void test_localizer_and_display(void) {
    const char *const timeout[] = {TRYING, PROGRESS, TIMEOUT};
    const char *const busy[] = {BUSY};
    const char *const ok[] = {OK_200};
    ocer_record *record = collect(timeout, 3);
    ocer_record *busy_record = collect(busy, 1);
    ocer_record *ok_record = collect(ok, 1);
    ocer_record *unanswered = collect(timeout, 0);
    ocer_localizer *loc = NULL;
    ocer_localizer *isolating = NULL;
    ocer_localizer *bad = NULL;
    ocer_display *d = NULL;
    ocer_display *untouched = (ocer_display *)&checks;
    ocer_cause cause;
    ocer_placeholders who;
    ocer_str s;

    OK(ocer_localizer_new(OCER_ISOLATION_OFF, &loc));
    OK(ocer_localizer_new(OCER_ISOLATION_ON, &isolating));
    EXPECT(OCER_RESULT_INVALID_ARGUMENT, ocer_localizer_new(2, &bad));
    CHECK(bad == NULL);
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_localizer_new(OCER_ISOLATION_OFF, NULL));

    /* The §4.1 504 for a Lync 2010 user on a voice call. */
    OK(ocer_localizer_resolve(loc, record, OCER_STRING_SET_LYNC2010, OCER_MODE_VOICE,
                              OCER_ACTION_CALL, LIT(""), 0, NULL, &d));
    OK(ocer_display_message(d, &s));
    CHECK(str_is(s, "Operation was unsuccessful."));
    OK(ocer_display_info(d, &s));
    CHECK(str_has(s, "The calling service did not respond."));
    OK(ocer_display_headline(d, &s));
    CHECK(str_is(s, "Operation was unsuccessful."));
    OK(ocer_display_message_id(d, &s));
    CHECK(str_is(s, "lync2010-sip-504-voice-call"));
    OK(ocer_display_locale(d, &s));
    CHECK(str_is(s, "en-US"));
    OK(ocer_display_json(d, &s));
    CHECK(str_has(s, "{\"code\":\"SipStatus\",\"subcode\":\"504\",\"message\":\"Operation was unsuccessful.\""));
    OK(ocer_display_cause(d, &cause));
    CHECK(cause.kind == OCER_CAUSE_SIP_STATUS && cause.code == 504 && cause.handled);
    CHECK(cause.origin == OCER_CAUSE_ORIGIN_FINAL_RESPONSE && cause.set == OCER_STRING_SET_LYNC2010);
    CHECK(cause.mode == OCER_MODE_VOICE && cause.action == OCER_ACTION_CALL);
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_display_message(NULL, &s));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_display_info(d, NULL));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_display_cause(d, NULL));
    ocer_display_free(d);

    /* A locale from FTL text, chosen by the user's preference list. */
    OK(ocer_localizer_add_locale(loc, LIT("de-DE"), OCER_STRING_SET_LYNC2010, LIT(GERMAN)));
    OK(ocer_localizer_resolve(loc, record, OCER_STRING_SET_LYNC2010, OCER_MODE_VOICE,
                              OCER_ACTION_CALL, LIT("de-AT, fr;q=0.5"), 0, NULL, &d));
    OK(ocer_display_message(d, &s));
    CHECK(str_is(s, "Der Vorgang war nicht erfolgreich."));
    OK(ocer_display_locale(d, &s));
    CHECK(str_is(s, "de-DE"));
    ocer_display_free(d);

    /* Placeholders, with and without bidi isolation marks. */
    who.user.ptr = (const uint8_t *)"Bob";
    who.user.len = 3;
    who.client.ptr = NULL;
    who.client.len = 0;
    who.feature = who.client;
    OK(ocer_localizer_resolve(loc, busy_record, OCER_STRING_SET_LYNC2010, OCER_MODE_VOICE,
                              OCER_ACTION_CALL, LIT("en-US"), 0, &who, &d));
    OK(ocer_display_message(d, &s));
    CHECK(str_is(s, "Bob is in another call."));
    ocer_display_free(d);
    OK(ocer_localizer_resolve(loc, busy_record, OCER_STRING_SET_LYNC2010, OCER_MODE_VOICE,
                              OCER_ACTION_CALL, LIT("de-DE"), 0, &who, &d));
    OK(ocer_display_message(d, &s));
    CHECK(str_is(s, "Bob telefoniert gerade."));
    ocer_display_free(d);
    OK(ocer_localizer_resolve(isolating, busy_record, OCER_STRING_SET_LYNC2010, OCER_MODE_VOICE,
                              OCER_ACTION_CALL, LIT(""), 0, &who, &d));
    OK(ocer_display_message(d, &s));
    CHECK(str_is(s, "\xE2\x81\xA8" "Bob" "\xE2\x81\xA9 is in another call."));
    ocer_display_free(d);

    /* No final response and a refused connection: a string is still chosen. */
    OK(ocer_localizer_resolve(loc, unanswered, OCER_STRING_SET_COMMUNICATOR2007, OCER_MODE_IM,
                              OCER_ACTION_SEND_MESSAGE, LIT(""), 10061, NULL, &d));
    OK(ocer_display_cause(d, &cause));
    CHECK(cause.set == OCER_STRING_SET_COMMUNICATOR2007 && cause.mode == OCER_MODE_IM);
    CHECK(cause.origin == OCER_CAUSE_ORIGIN_LOCAL_TIMEOUT || cause.origin == OCER_CAUSE_ORIGIN_TRANSPORT);
    OK(ocer_display_headline(d, &s));
    CHECK(s.ptr != NULL && s.len > 0);
    ocer_display_free(d);

    /* Refusals. */
    d = untouched;
    EXPECT(OCER_RESULT_NOT_A_FAILURE,
           ocer_localizer_resolve(loc, ok_record, OCER_STRING_SET_LYNC2010, OCER_MODE_VOICE,
                                  OCER_ACTION_CALL, LIT(""), 0, NULL, &d));
    EXPECT(OCER_RESULT_INVALID_ARGUMENT,
           ocer_localizer_resolve(loc, record, OCER_STRING_SET_LYNC2010, 6, OCER_ACTION_CALL,
                                  LIT(""), 0, NULL, &d));
    EXPECT(OCER_RESULT_INVALID_ARGUMENT,
           ocer_localizer_resolve(loc, record, OCER_STRING_SET_LYNC2010, OCER_MODE_VOICE, 15,
                                  LIT(""), 0, NULL, &d));
    EXPECT(OCER_RESULT_INVALID_ARGUMENT,
           ocer_localizer_resolve(loc, record, 2, OCER_MODE_VOICE, OCER_ACTION_CALL, LIT(""), 0,
                                  NULL, &d));
    EXPECT(OCER_RESULT_INVALID_UTF8,
           ocer_localizer_resolve(loc, record, OCER_STRING_SET_LYNC2010, OCER_MODE_VOICE,
                                  OCER_ACTION_CALL, LIT("\xc3"), 0, NULL, &d));
    who.client.len = 4; /* NULL with a length */
    EXPECT(OCER_RESULT_NULL_PARAMETER,
           ocer_localizer_resolve(loc, busy_record, OCER_STRING_SET_LYNC2010, OCER_MODE_VOICE,
                                  OCER_ACTION_CALL, LIT(""), 0, &who, &d));
    EXPECT(OCER_RESULT_NULL_PARAMETER,
           ocer_localizer_resolve(NULL, record, OCER_STRING_SET_LYNC2010, OCER_MODE_VOICE,
                                  OCER_ACTION_CALL, LIT(""), 0, NULL, &d));
    EXPECT(OCER_RESULT_NULL_PARAMETER,
           ocer_localizer_resolve(loc, NULL, OCER_STRING_SET_LYNC2010, OCER_MODE_VOICE,
                                  OCER_ACTION_CALL, LIT(""), 0, NULL, &d));
    CHECK(d == untouched);

    EXPECT(OCER_RESULT_LOCALE_DUPLICATE,
           ocer_localizer_add_locale(loc, LIT("de-DE"), OCER_STRING_SET_LYNC2010, LIT(GERMAN)));
    EXPECT(OCER_RESULT_LOCALE_REFERENCE,
           ocer_localizer_add_locale(loc, LIT("en-US"), OCER_STRING_SET_LYNC2010, LIT(GERMAN)));
    EXPECT(OCER_RESULT_LOCALE_INVALID_TAG,
           ocer_localizer_add_locale(loc, LIT("not a tag!"), OCER_STRING_SET_LYNC2010, LIT(GERMAN)));
    EXPECT(OCER_RESULT_LOCALE_INVALID,
           ocer_localizer_add_locale(loc, LIT("fr"), OCER_STRING_SET_LYNC2010,
                                     LIT("no-such-message = x\nlync2010-sip-504-voice-call = y\n")));
    CHECK(last_error_has("`no-such-message` is not an en-US message"));
    CHECK(last_error_has("`lync2010-sip-504-voice-call` must have a value and an .info"));
    EXPECT(OCER_RESULT_INVALID_ARGUMENT,
           ocer_localizer_add_locale(loc, LIT("fr"), 5, LIT(GERMAN)));
    EXPECT(OCER_RESULT_NULL_PARAMETER,
           ocer_localizer_add_locale(NULL, LIT("fr"), OCER_STRING_SET_LYNC2010, LIT(GERMAN)));

    ocer_localizer_free(loc);
    ocer_localizer_free(isolating);
    ocer_localizer_free(NULL);
    ocer_display_free(NULL);
    ocer_record_free(record);
    ocer_record_free(busy_record);
    ocer_record_free(ok_record);
    ocer_record_free(unanswered);
}

static void test_report(void) {
    const char *const timeout[] = {TRYING, PROGRESS, TIMEOUT};
    const char *const ok[] = {OK_200};
    ocer_record *record = collect(timeout, 3);
    ocer_record *ok_record = collect(ok, 1);
    ocer_record *unanswered = collect(timeout, 2);
    ocer_report_limits limits;
    ocer_report *r = NULL;
    ocer_report *untouched = (ocer_report *)&checks;
    ocer_cuts cuts;
    ocer_str s;

    OK(ocer_report_limits_default(&limits));
    CHECK(limits.max_body_bytes == 128 * 1024 && limits.max_progress_reports == 32);
    OK(ocer_report_content_type(&s));
    CHECK(str_is(s, "application/msrtc-reporterror+xml"));

    OK(ocer_report_new(record, LIT("sip:alice@contoso.com"), NULL, &r));
    OK(ocer_report_body(r, &s));
    CHECK(str_has(s, "callId=\"f5290007af32443f8a82daa76c934880\""));
    CHECK(str_has(s, "responseCode=\"504\""));
    CHECK(str_has(s, "<diagHeader>1007;"));
    CHECK(str_has(s, "<progressReports><progressReport><diagHeader>12006;"));
    CHECK(!str_has(s, "fromUri=")); /* the reporter is the caller */
    OK(ocer_report_cuts(r, &cuts));
    CHECK(cuts.dropped_fields == 0 && cuts.truncated_diag_headers == 0 && cuts.truncated_chars == 0);
    CHECK(cuts.dropped_diag_headers == 0 && cuts.dropped_progress_reports == 0 && cuts.replaced_chars == 0);
    ocer_report_free(r);

    /* Tighter limits cut, and say so. */
    limits.max_progress_reports = 0;
    OK(ocer_report_new(record, LIT("sip:carol@contoso.com"), &limits, &r));
    OK(ocer_report_body(r, &s));
    CHECK(str_has(s, "fromUri=\"sip:alice@contoso.com\"") && !str_has(s, "<progressReport>"));
    OK(ocer_report_cuts(r, &cuts));
    CHECK(cuts.dropped_progress_reports == 1);
    ocer_report_free(r);
    limits.max_body_bytes = 100;
    EXPECT(OCER_RESULT_REPORT_REQUIRED_EXCEED_BODY, ocer_report_new(record, LIT("sip:a@b"), &limits, &r));

    /* No final response: the report says what was received (the 101; 0 when
       nothing came), and no invented ErrorId (MS-OCER 2.2.2). */
    {
        ocer_record *timed_out = collect_ended(timeout, 2, 'T');
        ocer_record *refused = collect_ended(timeout, 0, 'R');
        OK(ocer_report_new(timed_out, LIT("sip:alice@contoso.com"), NULL, &r));
        OK(ocer_report_body(r, &s));
        CHECK(str_has(s, "responseCode=\"101\"") && !str_has(s, "408"));
        CHECK(!str_has(s, "<diagHeader>529"));
        ocer_report_free(r);
        OK(ocer_report_new(refused, LIT("sip:alice@contoso.com"), NULL, &r));
        OK(ocer_report_body(r, &s));
        CHECK(str_has(s, "responseCode=\"0\"") && !str_has(s, "503"));
        ocer_report_free(r);
        ocer_record_free(timed_out);
        ocer_record_free(refused);
        timed_out = collect_ended(timeout, 2, 'C');
        EXPECT(OCER_RESULT_REPORT_CANCELLED,
               ocer_report_new(timed_out, LIT("sip:alice@contoso.com"), NULL, &r));
        ocer_record_free(timed_out);
    }

    r = untouched;
    EXPECT(OCER_RESULT_NOT_A_FAILURE, ocer_report_new(ok_record, LIT("sip:a@b"), NULL, &r));
    EXPECT(OCER_RESULT_REPORT_NOT_ENDED, ocer_report_new(unanswered, LIT("sip:a@b"), NULL, &r));
    EXPECT(OCER_RESULT_INVALID_UTF8, ocer_report_new(record, LIT("sip:\xff"), NULL, &r));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_report_new(NULL, LIT("sip:a@b"), NULL, &r));
    CHECK(r == untouched);
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_report_new(record, LIT("sip:a@b"), NULL, NULL));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_report_body(NULL, &s));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_report_cuts(NULL, &cuts));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_report_content_type(NULL));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_report_limits_default(NULL));
    ocer_report_free(NULL);
    ocer_record_free(record);
    ocer_record_free(ok_record);
    ocer_record_free(unanswered);
}

static ocer_str cstr(const char *s) {
    ocer_str out;
    out.ptr = (const uint8_t *)s;
    out.len = strlen(s);
    return out;
}

static void no_events(void *userdata, const ocer_event *event) {
    (void)userdata;
    (void)event;
}

/* The user agent without a server: its configuration checks, NULL checks,
 * and the failures that come before anything is sent. 127.0.0.1:9 (discard)
 * is never reached: nothing here sends a request. */
static void test_user_agent(void) {
    ocer_ua_config config;
    ocer_ua *ua = NULL;
    uint8_t id[OCER_UA_CALL_ID_CAPACITY];
    uint8_t small[8];
    size_t id_len = 12345;

    OK(ocer_ua_config_default(&config));
    CHECK(config.aor.ptr == NULL && config.server.ptr == NULL);
    CHECK(config.transport == OCER_TRANSPORT_UDP);
    CHECK(config.string_set == OCER_STRING_SET_LYNC2010);
    CHECK(config.reporting && config.t1_ms == 500);
    CHECK(config.tls_ca_file.ptr == NULL && config.tls_server_name.ptr == NULL);
    CHECK(config.locales.ptr == NULL && config.client_name.ptr == NULL);
    CHECK(config.outbox_dir.ptr == NULL);
    CHECK(config.auth == OCER_AUTH_AUTO && config.dns_server.ptr == NULL);
    CHECK(OCER_AUTH_NTLM != OCER_AUTH_DIGEST && OCER_AUTH_NTLM != OCER_AUTH_AUTO);
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_ua_config_default(NULL));

    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_ua_new(NULL, no_events, NULL, &ua));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_ua_new(&config, no_events, NULL, NULL));
    config.aor.ptr = (const uint8_t *)"sip:alice@contoso.com";
    config.aor.len = strlen("sip:alice@contoso.com");
    /* No server: discovery, which needs a DNS server given as an address. */
    config.dns_server = cstr("dns.contoso.com");
    EXPECT(OCER_RESULT_INVALID_ARGUMENT, ocer_ua_new(&config, no_events, NULL, &ua));
    CHECK(last_error_has("config.dns_server"));
    config.dns_server.ptr = NULL;
    config.dns_server.len = 0;
    config.auth = 7;
    EXPECT(OCER_RESULT_INVALID_ARGUMENT, ocer_ua_new(&config, no_events, NULL, &ua));
    CHECK(last_error_has("unknown ocer_auth_mode 7"));
    config.auth = OCER_AUTH_DIGEST;
    config.server.ptr = (const uint8_t *)"127.0.0.1:9";
    config.server.len = strlen("127.0.0.1:9");
    config.transport = 3;
    EXPECT(OCER_RESULT_INVALID_ARGUMENT, ocer_ua_new(&config, no_events, NULL, &ua));
    CHECK(last_error_has("unknown ocer_transport 3"));
    config.transport = OCER_TRANSPORT_TLS;
    config.tls_ca_file = cstr("/nonexistent/ocer-ca.pem");
    EXPECT(OCER_RESULT_INVALID_ARGUMENT, ocer_ua_new(&config, no_events, NULL, &ua));
    CHECK(last_error_has("config.tls_ca_file"));
    config.tls_ca_file.ptr = NULL;
    config.tls_ca_file.len = 0;
    config.transport = OCER_TRANSPORT_UDP;
    config.locales = cstr("fr-FR,not a tag");
    EXPECT(OCER_RESULT_INVALID_ARGUMENT, ocer_ua_new(&config, no_events, NULL, &ua));
    CHECK(last_error_has("config.locales"));
    config.locales = cstr("fr-FR, de-DE");
    config.client_name = cstr("Contoso Phone");
    config.t1_ms = 0;
    EXPECT(OCER_RESULT_INVALID_ARGUMENT, ocer_ua_new(&config, no_events, NULL, &ua));
    config.t1_ms = 100;
    config.aor.ptr = (const uint8_t *)"alice";
    config.aor.len = strlen("alice");
    EXPECT(OCER_RESULT_UA_INVALID_AOR, ocer_ua_new(&config, no_events, NULL, &ua));
    CHECK(ua == NULL);
    config.aor.ptr = (const uint8_t *)"sip:alice@contoso.com";
    config.aor.len = strlen("sip:alice@contoso.com");

    OK(ocer_ua_new(&config, no_events, NULL, &ua));
    CHECK(ua != NULL);

    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_ua_register(NULL));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_ua_unregister(NULL));
    /* Not registered: nothing to do. */
    OK(ocer_ua_unregister(ua));

    EXPECT(OCER_RESULT_INSUFFICIENT_SIZE,
           ocer_ua_call(ua, LIT("sip:bob@contoso.com"), NULL, 0, OCER_MODE_VOICE,
                        OCER_ACTION_CALL, small, sizeof small, &id_len));
    CHECK(id_len == 12345);
    EXPECT(OCER_RESULT_NULL_PARAMETER,
           ocer_ua_call(ua, LIT("sip:bob@contoso.com"), NULL, 0, OCER_MODE_VOICE,
                        OCER_ACTION_CALL, id, sizeof id, NULL));
    EXPECT(OCER_RESULT_NULL_PARAMETER,
           ocer_ua_call(NULL, LIT("sip:bob@contoso.com"), NULL, 0, OCER_MODE_VOICE,
                        OCER_ACTION_CALL, id, sizeof id, &id_len));
    EXPECT(OCER_RESULT_INVALID_ARGUMENT,
           ocer_ua_call(ua, LIT("sip:bob@contoso.com"), NULL, 0, 99, OCER_ACTION_CALL, id,
                        sizeof id, &id_len));
    EXPECT(OCER_RESULT_INVALID_UTF8,
           ocer_ua_call(ua, LIT("sip:b\xff@contoso.com"), NULL, 0, OCER_MODE_VOICE,
                        OCER_ACTION_CALL, id, sizeof id, &id_len));
    EXPECT(OCER_RESULT_UA_INVALID_TARGET,
           ocer_ua_call(ua, LIT("bob"), NULL, 0, OCER_MODE_VOICE, OCER_ACTION_CALL, id,
                        sizeof id, &id_len));
    EXPECT(OCER_RESULT_UA_INVALID_TARGET,
           ocer_ua_join(ua, LIT("focus"), NULL, 0, OCER_ACTION_JOIN, id, sizeof id, &id_len));
    EXPECT(OCER_RESULT_INSUFFICIENT_SIZE,
           ocer_ua_join(ua, LIT("sip:bob@contoso.com;gruu;opaque=app:conf:focus:id:X"), NULL, 0,
                        OCER_ACTION_JOIN, small, sizeof small, &id_len));
    EXPECT(OCER_RESULT_UA_INVALID_TARGET,
           ocer_ua_share(ua, LIT("carol"), LIT("v=0\r\n"), OCER_ACTION_SHARE, id, sizeof id,
                         &id_len));
    EXPECT(OCER_RESULT_NULL_PARAMETER,
           ocer_ua_share(ua, LIT("sip:carol@contoso.com"), NULL, 0, OCER_ACTION_SHARE, NULL,
                         sizeof id, &id_len));
    CHECK(id_len == 12345);

    EXPECT(OCER_RESULT_NOT_FOUND, ocer_ua_hangup(ua, LIT("no-such-call")));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_ua_hangup(NULL, LIT("no-such-call")));
    EXPECT(OCER_RESULT_UA_INVALID_TARGET, ocer_ua_send_im(ua, LIT("bob"), LIT("hello")));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_ua_send_im(ua, NULL, 3, LIT("hello")));
    CHECK(str_is(ocer_result_describe(OCER_RESULT_UA_REJECTED), "the server rejected the request"));

    EXPECT(OCER_RESULT_UA_NOT_A_CLIENT_ERROR,
           ocer_ua_report_client_error(ua, 1007, cstr(""), cstr(""), 0));
    EXPECT(OCER_RESULT_NULL_PARAMETER,
           ocer_ua_report_client_error(NULL, 52169, cstr(""), cstr(""), 0));
    /* MS-OCER 2.2.2: the report names the request that failed; no default. */
    EXPECT(OCER_RESULT_INVALID_ARGUMENT,
           ocer_ua_report_client_error(ua, 52169, cstr(""), cstr(""), 0));
    EXPECT(OCER_RESULT_INVALID_ARGUMENT,
           ocer_ua_report_client_error(ua, 52169, cstr(""), cstr("GET /ews"), 0));
    /* Queued in the (memory) outbox, sent once registered. */
    OK(ocer_ua_report_client_error(ua, 52169, cstr("abc@contoso.com"), cstr("INVITE"), 504));

    ocer_ua_free(ua);
    ocer_ua_free(NULL);
}

static void test_retry_and_gate(void) {
    ocer_retry_policy policy;
    ocer_retry *r = NULL;
    ocer_session_gate *gate = NULL;
    ocer_verdict v;
    ocer_str diag[1];
    uint32_t attempts = 99;
    bool may_send = false, suspended = true;
    uint64_t at = 1;

    OK(ocer_retry_policy_default(&policy));
    CHECK(policy.max_attempts == 6 && policy.initial_backoff_ms == 10000);
    CHECK(policy.max_backoff_ms == 600000 && policy.max_retry_after_ms == 3600000);

    OK(ocer_retry_new(7, 0, NULL, &r));
    OK(ocer_retry_attempts(r, &attempts));
    CHECK(attempts == 0);
    OK(ocer_session_gate_new(&gate));
    OK(ocer_session_gate_may_send(gate, 0, &may_send));
    CHECK(may_send);

    /* Busy: every report waits for the Retry-After. */
    diag[0] = cstr("1000;reason=\"busy\";source=\"fe.contoso.com\"");
    OK(ocer_retry_on_response(r, 503, diag, 1, LIT("30"), 1000, &v));
    CHECK(v.kind == OCER_VERDICT_RETRY_AT && v.reason == OCER_VERDICT_REASON_RETRY_AFTER);
    CHECK(v.at_ms == 31000 && !v.retry_after_ignored && v.status == 0);
    OK(ocer_session_gate_observe(gate, &v));
    OK(ocer_session_gate_may_send(gate, 1000, &may_send));
    CHECK(!may_send);
    OK(ocer_session_gate_next_send_at(gate, 1000, &suspended, &at));
    CHECK(!suspended && at == 31000);
    OK(ocer_session_gate_may_send(gate, 31000, &may_send));
    CHECK(may_send);
    EXPECT(OCER_RESULT_NOT_FOUND, ocer_session_gate_suspension(gate, &v));

    /* A Retry-After that does not parse is ignored and flagged: backoff. */
    OK(ocer_retry_on_response(r, 503, diag, 1, LIT("soon"), 40000, &v));
    CHECK(v.kind == OCER_VERDICT_RETRY_AT && v.reason == OCER_VERDICT_REASON_BACKOFF);
    CHECK(v.retry_after_ignored && v.at_ms >= 40000 + 10000 && v.at_ms <= 40000 + 20000);
    OK(ocer_retry_on_unanswered(r, OCER_ENDING_TIMEOUT, 70000, &v));
    CHECK(v.kind == OCER_VERDICT_RETRY_AT && v.reason == OCER_VERDICT_REASON_BACKOFF);
    OK(ocer_retry_on_unanswered(r, OCER_ENDING_TRANSPORT, 90000, &v));
    CHECK(v.kind == OCER_VERDICT_RETRY_AT);
    OK(ocer_retry_attempts(r, &attempts));
    CHECK(attempts == 4);

    /* 401 once: authenticate; again: stop for the session. */
    OK(ocer_retry_on_response(r, 401, NULL, 0, NULL, 0, 100000, &v));
    CHECK(v.kind == OCER_VERDICT_AUTHENTICATE && v.reason == OCER_VERDICT_REASON_NONE);
    OK(ocer_retry_on_response(r, 401, NULL, 0, NULL, 0, 100001, &v));
    CHECK(v.kind == OCER_VERDICT_SUSPEND_SESSION && v.reason == OCER_VERDICT_REASON_AUTHENTICATION_FAILED);
    CHECK(v.status == 401);
    ocer_retry_free(r);

    /* One verdict per outcome, on fresh reports. */
    OK(ocer_retry_new(1, 0, NULL, &r));
    OK(ocer_retry_on_response(r, 200, NULL, 0, NULL, 0, 0, &v));
    CHECK(v.kind == OCER_VERDICT_DELIVERED);
    OK(ocer_retry_on_response(r, 413, NULL, 0, NULL, 0, 0, &v));
    CHECK(v.kind == OCER_VERDICT_DISCARD && v.reason == OCER_VERDICT_REASON_TOO_LARGE);
    OK(ocer_retry_on_response(r, 404, NULL, 0, NULL, 0, 0, &v));
    CHECK(v.kind == OCER_VERDICT_DISCARD && v.reason == OCER_VERDICT_REASON_REJECTED && v.status == 404);
    OK(ocer_retry_on_response(r, 501, NULL, 0, NULL, 0, 0, &v));
    CHECK(v.kind == OCER_VERDICT_SUSPEND_SESSION && v.reason == OCER_VERDICT_REASON_NOT_SUPPORTED);
    OK(ocer_retry_on_response(r, 503, NULL, 0, NULL, 0, 0, &v));
    CHECK(v.kind == OCER_VERDICT_SUSPEND_SESSION && v.reason == OCER_VERDICT_REASON_NOT_ENABLED);
    OK(ocer_retry_on_response(r, 503, diag, 1, LIT("7200"), 0, &v));
    CHECK(v.kind == OCER_VERDICT_SUSPEND_SESSION && v.reason == OCER_VERDICT_REASON_WAIT_TOO_LONG);
    CHECK(v.wait_ms == 7200000);
    diag[0] = cstr("2019;reason=\"Report error service is not available\"");
    OK(ocer_retry_on_response(r, 503, diag, 1, LIT("30"), 0, &v));
    CHECK(v.kind == OCER_VERDICT_SUSPEND_SESSION && v.reason == OCER_VERDICT_REASON_SERVICE_NOT_AVAILABLE);

    /* The suspension closes the gate for the session. */
    OK(ocer_session_gate_observe(gate, &v));
    OK(ocer_session_gate_may_send(gate, 50000, &may_send));
    CHECK(!may_send);
    OK(ocer_session_gate_next_send_at(gate, 50000, &suspended, &at));
    CHECK(suspended && at == 0);
    OK(ocer_session_gate_suspension(gate, &v));
    CHECK(v.kind == OCER_VERDICT_SUSPEND_SESSION && v.reason == OCER_VERDICT_REASON_SERVICE_NOT_AVAILABLE);

    /* Failures. */
    v.kind = 42;
    EXPECT(OCER_RESULT_INVALID_ARGUMENT, ocer_session_gate_observe(gate, &v));
    v.kind = OCER_VERDICT_RETRY_AT;
    v.reason = OCER_VERDICT_REASON_NOT_ENABLED;
    EXPECT(OCER_RESULT_INVALID_ARGUMENT, ocer_session_gate_observe(gate, &v));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_session_gate_observe(gate, NULL));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_session_gate_observe(NULL, &v));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_session_gate_may_send(gate, 0, NULL));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_session_gate_next_send_at(gate, 0, NULL, &at));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_session_gate_suspension(NULL, &v));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_session_gate_new(NULL));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_retry_on_response(r, 503, NULL, 1, NULL, 0, 0, &v));
    diag[0].ptr = (const uint8_t *)"\xff";
    diag[0].len = 1;
    EXPECT(OCER_RESULT_INVALID_UTF8, ocer_retry_on_response(r, 503, diag, 1, NULL, 0, 0, &v));
    EXPECT(OCER_RESULT_INVALID_ARGUMENT, ocer_retry_on_unanswered(r, OCER_ENDING_FINAL, 0, &v));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_retry_on_unanswered(r, OCER_ENDING_TIMEOUT, 0, NULL));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_retry_attempts(NULL, &attempts));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_retry_new(1, 0, NULL, NULL));
    EXPECT(OCER_RESULT_NULL_PARAMETER, ocer_retry_policy_default(NULL));
    ocer_retry_free(r);

    /* A resumed report with a one-attempt policy: a transient failure is final. */
    policy.max_attempts = 1;
    OK(ocer_retry_new(3, 0, &policy, &r));
    OK(ocer_retry_on_unanswered(r, OCER_ENDING_TIMEOUT, 0, &v));
    CHECK(v.kind == OCER_VERDICT_DISCARD && v.reason == OCER_VERDICT_REASON_ATTEMPTS_EXHAUSTED);
    ocer_retry_free(r);
    OK(ocer_retry_new(3, 5, NULL, &r));
    OK(ocer_retry_attempts(r, &attempts));
    CHECK(attempts == 5);
    ocer_retry_free(r);

    ocer_retry_free(NULL);
    ocer_session_gate_free(gate);
    ocer_session_gate_free(NULL);
}

int main(void) {
    test_version_and_results();
    test_diag_header();
    test_catalog();
    test_collector();
    test_record();
    test_unparsed_diagnostic();
    test_localizer_and_display();
    test_report();
    test_retry_and_gate();
    test_user_agent();
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
