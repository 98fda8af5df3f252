/*
 * codec_bench: the plain-C counterpart of CodecBench. Nanoseconds per encode,
 * decode and encode + decode of a full servicevault.timer.v1.Timer and of a
 * 100-timer ListTimersResponse, straight through protobuf-c and the generated
 * code in Sources/TimerProtoC.
 *
 *   codec_bench [--iterations N] [--rounds R]
 *
 * Same messages, same loop shape and same output keys as CodecBench: N calls
 * per round for the timer, N / 100 for the list, R measured rounds after one
 * warm-up, median printed. Encoding writes into a freshly allocated buffer, as
 * the Swift codec returns a new array; decoding frees what it unpacked.
 * Built and run by scripts/bench-codec.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "servicevault/timer/v1/timer_service.pb-c.h"

#define EPOCH INT64_C(1750000000)
#define LIST_SIZE 100

/* 42 characters, 47 bytes of UTF-8. */
static const char description[] = "Überarbeitung Angebot für Zürich – Phase 2";

/* A timer with every field set, and the sub-messages it points to. */
typedef struct {
  Servicevault__Timer__V1__Timer timer;
  Google__Protobuf__Timestamp started_at, paused_at, stopped_at, last_updated,
      current_session_started_at, created_at, deleted_at;
  Servicevault__Timer__V1__Money current_value, hourly_rate;
} SampleTimer;

static void timestamp(Google__Protobuf__Timestamp *t, int64_t seconds, int32_t nanos) {
  google__protobuf__timestamp__init(t);
  t->seconds = seconds;
  t->nanos = nanos;
}

static void money(Servicevault__Timer__V1__Money *m, const char *currency, int64_t amount_minor) {
  servicevault__timer__v1__money__init(m);
  m->currency_code = (char *)currency;
  m->amount_minor = amount_minor;
  m->minor_unit_digits = 2;
}

/* `index` shifts the id and the timestamps, so the timers of a list differ. */
static void sample_timer(SampleTimer *s, int64_t index) {
  int64_t base = EPOCH + index * 60;
  Servicevault__Timer__V1__Timer *t = &s->timer;
  servicevault__timer__v1__timer__init(t);
  t->id = 1000000 + index;
  t->user_id = 42;
  t->account_id = 7;
  t->_project_id_case = SERVICEVAULT__TIMER__V1__TIMER___PROJECT_ID_PROJECT_ID;
  t->project_id = 12;
  t->_billing_rate_id_case = SERVICEVAULT__TIMER__V1__TIMER___BILLING_RATE_ID_BILLING_RATE_ID;
  t->billing_rate_id = 3;
  t->description = (char *)description;
  t->status = SERVICEVAULT__TIMER__V1__TIMER_STATUS__TIMER_STATUS_RUNNING;
  timestamp(&s->started_at, base, 125000000);
  t->started_at = &s->started_at;
  timestamp(&s->paused_at, base + 3600, 250000000);
  t->paused_at = &s->paused_at;
  timestamp(&s->stopped_at, base + 7200, 375000000);
  t->stopped_at = &s->stopped_at;
  t->total_duration = 12345;
  t->current_session_duration = 678;
  timestamp(&s->last_updated, base + 7300, 500000000);
  t->last_updated = &s->last_updated;
  t->device_id = "macbook-pro-7f3a";
  t->sync_version = 17;
  timestamp(&s->current_session_started_at, base + 5400, 625000000);
  t->current_session_started_at = &s->current_session_started_at;
  money(&s->current_value, "EUR", 18750);
  t->current_value = &s->current_value;
  money(&s->hourly_rate, "EUR", 9500);
  t->hourly_rate = &s->hourly_rate;
  t->client_ref = "6f1c2a9e-3b4d-4e8f-9a2b-1c3d5e7f9a0b";
  timestamp(&s->created_at, base - 86400, 750000000);
  t->created_at = &s->created_at;
  timestamp(&s->deleted_at, base + 90000, 875000000);
  t->deleted_at = &s->deleted_at;
}

/* One page of 100 timers with the caller's figures and a page token. */
typedef struct {
  Servicevault__Timer__V1__ListTimersResponse response;
  SampleTimer timers[LIST_SIZE];
  Servicevault__Timer__V1__Timer *timer_pointers[LIST_SIZE];
  Servicevault__Timer__V1__Meta meta;
  Servicevault__Timer__V1__Money totals[2];
  Servicevault__Timer__V1__Money *total_pointers[2];
  Google__Protobuf__Timestamp sync_timestamp;
} SampleList;

static void sample_list(SampleList *s) {
  servicevault__timer__v1__list_timers_response__init(&s->response);
  for (int i = 0; i < LIST_SIZE; i++) {
    sample_timer(&s->timers[i], i);
    s->timer_pointers[i] = &s->timers[i].timer;
  }
  s->response.n_timers = LIST_SIZE;
  s->response.timers = s->timer_pointers;

  servicevault__timer__v1__meta__init(&s->meta);
  s->meta.active_count = 100;
  s->meta.running_count = 60;
  s->meta.paused_count = 40;
  s->meta.total_active_duration = 1234567;
  money(&s->totals[0], "EUR", 1875000);
  money(&s->totals[1], "USD", 420042);
  s->total_pointers[0] = &s->totals[0];
  s->total_pointers[1] = &s->totals[1];
  s->meta.n_total_active_value = 2;
  s->meta.total_active_value = s->total_pointers;
  timestamp(&s->sync_timestamp, EPOCH + 9000, 999000000);
  s->meta.sync_timestamp = &s->sync_timestamp;
  s->response.meta = &s->meta;
  s->response.next_page_token = "eyJjcmVhdGVkX2F0IjoxNzUwMDAwMDAwLCJpZCI6MTAwMDA5OX0";
}

static void fail(const char *message) {
  fprintf(stderr, "codec_bench: %s\n", message);
  exit(1);
}

/* The message to encode and its encoding to decode, for the loop bodies. */
typedef struct {
  const void *message;
  const uint8_t *encoded;
  size_t encoded_size;
} Subject;

/* Each body returns a summary of its result, added to the checksum. */
typedef uint64_t (*Body)(const Subject *);

static uint8_t *timer_encode(const Servicevault__Timer__V1__Timer *t, size_t *size) {
  *size = servicevault__timer__v1__timer__get_packed_size(t);
  uint8_t *buffer = malloc(*size ? *size : 1);
  if (!buffer) fail("out of memory");
  if (servicevault__timer__v1__timer__pack(t, buffer) != *size) fail("timer: packed size changed");
  return buffer;
}

static uint64_t timer_decode(const uint8_t *bytes, size_t size) {
  Servicevault__Timer__V1__Timer *t = servicevault__timer__v1__timer__unpack(NULL, size, bytes);
  if (!t) fail("timer: unpack failed");
  uint64_t summary = (uint64_t)t->id + (uint64_t)t->sync_version;
  servicevault__timer__v1__timer__free_unpacked(t, NULL);
  return summary;
}

static uint8_t *list_encode(const Servicevault__Timer__V1__ListTimersResponse *r, size_t *size) {
  *size = servicevault__timer__v1__list_timers_response__get_packed_size(r);
  uint8_t *buffer = malloc(*size ? *size : 1);
  if (!buffer) fail("out of memory");
  if (servicevault__timer__v1__list_timers_response__pack(r, buffer) != *size) fail("list: packed size changed");
  return buffer;
}

static uint64_t list_decode(const uint8_t *bytes, size_t size) {
  Servicevault__Timer__V1__ListTimersResponse *r =
      servicevault__timer__v1__list_timers_response__unpack(NULL, size, bytes);
  if (!r) fail("list: unpack failed");
  uint64_t summary = (uint64_t)r->n_timers + (r->n_timers ? (uint64_t)r->timers[r->n_timers - 1]->id : 0);
  servicevault__timer__v1__list_timers_response__free_unpacked(r, NULL);
  return summary;
}

static uint64_t timer_round_trip(const Subject *s) {
  size_t size;
  uint8_t *bytes = timer_encode(s->message, &size);
  uint64_t summary = timer_decode(bytes, size) + size;
  free(bytes);
  return summary;
}

static uint64_t timer_encode_only(const Subject *s) {
  size_t size;
  free(timer_encode(s->message, &size));
  return size;
}

static uint64_t timer_decode_only(const Subject *s) { return timer_decode(s->encoded, s->encoded_size); }

static uint64_t list_round_trip(const Subject *s) {
  size_t size;
  uint8_t *bytes = list_encode(s->message, &size);
  uint64_t summary = list_decode(bytes, size) + size;
  free(bytes);
  return summary;
}

static uint64_t list_encode_only(const Subject *s) {
  size_t size;
  free(list_encode(s->message, &size));
  return size;
}

static uint64_t list_decode_only(const Subject *s) { return list_decode(s->encoded, s->encoded_size); }

static uint64_t checksum;

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The median over `rounds` measured rounds (after one warm-up) of ns per call. */
static double ns_per_call(Body body, const Subject *subject, long iterations, int rounds) {
  double *samples = malloc(sizeof(double) * (size_t)rounds);
  if (!samples) fail("out of memory");
  for (int round = 0; round <= rounds; round++) {
    uint64_t sum = 0;
    double start = now_ns();
    for (long i = 0; i < iterations; i++) sum += body(subject);
    double elapsed = now_ns() - start;
    checksum += sum;
    if (round > 0) samples[round - 1] = elapsed / (double)iterations;
  }
  qsort(samples, (size_t)rounds, sizeof(double), compare_doubles);
  double median = samples[rounds / 2];
  free(samples);
  return median;
}

/* 64-bit FNV-1a, to show that two programs produced the same encoding. */
static uint64_t fnv1a(const uint8_t *bytes, size_t size) {
  uint64_t hash = UINT64_C(0xcbf29ce484222325);
  for (size_t i = 0; i < size; i++) {
    hash ^= bytes[i];
    hash *= UINT64_C(0x100000001b3);
  }
  return hash;
}

static void bench(const char *name, const void *message, uint8_t *encoded, size_t size,
                  Body round_trip, Body encode, Body decode, long iterations, int rounds) {
  Subject subject = {message, encoded, size};
  double round_trip_ns = ns_per_call(round_trip, &subject, iterations, rounds);
  double encode_ns = ns_per_call(encode, &subject, iterations, rounds);
  double decode_ns = ns_per_call(decode, &subject, iterations, rounds);
  printf("%s.bytes %zu\n", name, size);
  printf("%s.fnv1a %llx\n", name, (unsigned long long)fnv1a(encoded, size));
  printf("%s.roundtrip_ns %.1f\n", name, round_trip_ns);
  printf("%s.encode_ns %.1f\n", name, encode_ns);
  printf("%s.decode_ns %.1f\n", name, decode_ns);
  free(encoded);
}

static long positive(const char *text) {
  char *end;
  long value = strtol(text, &end, 10);
  return (*text && !*end && value > 0) ? value : 0;
}

int main(int argc, char **argv) {
  const char *usage = "usage: codec_bench [--iterations N] [--rounds R]\n";
  long iterations = 5000;
  int rounds = 7;
  for (int i = 1; i < argc; i += 2) {
    long value = i + 1 < argc ? positive(argv[i + 1]) : 0;
    if (value && strcmp(argv[i], "--iterations") == 0) {
      iterations = value;
    } else if (value && strcmp(argv[i], "--rounds") == 0 && value < 100000) {
      rounds = (int)value;
    } else {
      fputs(usage, stderr);
      return 2;
    }
  }
  long list_iterations = iterations / 100 > 0 ? iterations / 100 : 1;
  printf("# c: protobuf-c %s, %ld timer / %ld list calls per round, median of %d rounds after 1 warm-up\n",
         protobuf_c_version(), iterations, list_iterations, rounds);

  static SampleTimer timer;
  sample_timer(&timer, 0);
  size_t timer_size;
  uint8_t *timer_bytes = timer_encode(&timer.timer, &timer_size);
  bench("timer", &timer.timer, timer_bytes, timer_size, timer_round_trip, timer_encode_only, timer_decode_only,
        iterations, rounds);

  static SampleList list;
  sample_list(&list);
  size_t list_size;
  uint8_t *list_bytes = list_encode(&list.response, &list_size);
  bench("list", &list.response, list_bytes, list_size, list_round_trip, list_encode_only, list_decode_only,
        list_iterations, rounds);

  printf("checksum %llu\n", (unsigned long long)checksum);
  return 0;
}
