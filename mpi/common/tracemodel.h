/* The deterministic trace model behind sb-acquire (and its --verify) and the
 * label sb-preprocess computes its SNR for.
 *
 * Trace i depends only on the model (seed, samples, dtype, parameters) and i,
 * never on which rank makes it: every value comes from a counter-based hash
 * (splitmix64's finalizer) of (seed, stream, i, sample), so any rank can
 * regenerate any trace.
 *
 * - key: one AES-128 key per seed (stream 1), the same for every trace, as on a
 *   bench attacking a fixed-key device.
 * - plaintext_i: 16 bytes from stream 2 at index i; ciphertext_i =
 *   AES-128(key, plaintext_i).
 * - sample s of trace i, in integer arithmetic (so it is bit-exact anywhere):
 *     scale * (baseline(s) + sum over leaks at s of gain * (HW(SBOX[pt[b] ^ key[b]]) - 4))
 *     + scale * (u0 + u1 + u2 + u3 - 510) / noise_divisor
 *   clamped to the dtype's range, where u0..u3 are the four low bytes of the
 *   stream-3 hash of (i, s), baseline is a triangle wave of amplitude
 *   baseline_amplitude and period baseline_period, and scale is 1 for int8
 *   and 256 for int16 (C integer division truncates toward zero).
 * The default leaks: byte 0 at samples/4 (gain 10), samples/2 (gain 8) and
 * 3*samples/4 (gain 6); byte 1 at samples/8 and byte 2 at 5*samples/8
 * (gain 10), which the SNR of byte 0 must not show. */
#ifndef SB_PROG_TRACEMODEL_H
#define SB_PROG_TRACEMODEL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <secbench/storage.h>

#define SB_TM_MAX_LEAKS 16

typedef struct sb_tm_leak {
    uint32_t sample; /* sample index in the trace */
    int byte;        /* which plaintext/key byte's S-box output leaks */
    int gain;        /* per bit of Hamming weight, in int8 units */
} sb_tm_leak;

typedef struct sb_trace_model {
    uint64_t seed;
    uint32_t samples;
    sb_dtype dtype; /* SB_INT8 or SB_INT16 */
    uint8_t key[16];
    int baseline_amplitude;
    int baseline_period;
    int noise_divisor;
    int nleaks;
    sb_tm_leak leaks[SB_TM_MAX_LEAKS];
} sb_trace_model;

/* Default model for a seed, a trace length and a dtype. Returns 0, or -1 with
 * a sentence in err when an argument is out of range. */
int sb_tm_init(sb_trace_model *m, uint64_t seed, uint32_t samples, sb_dtype dtype,
               char *err, size_t errlen);

/* Plaintext and ciphertext of trace i (key: m->key). */
void sb_tm_inputs(const sb_trace_model *m, uint64_t i, uint8_t pt[16], uint8_t ct[16]);
/* The m->samples samples of trace i (whose plaintext is pt) into out, an array
 * of m->dtype. */
void sb_tm_samples(const sb_trace_model *m, uint64_t i, const uint8_t pt[16], void *out);

/* The sample indices where byte `byte` leaks, strongest gain first; returns
 * how many (at most max). */
int sb_tm_leak_points(const sb_trace_model *m, int byte, uint32_t *points, int max);

/* The model as a JSON object (seed, samples, dtype, key in hex, baseline,
 * noise, leaks), and back. Integers are exact (json.h): any 64-bit seed
 * survives. from_json returns -1 with a sentence in err when a member is
 * missing or wrong. */
cJSON *sb_tm_to_json(const sb_trace_model *m);
int sb_tm_from_json(sb_trace_model *m, const cJSON *obj, char *err, size_t errlen);

/* Lowercase hex of n bytes into out (2n+1 chars); parse back (-1 if bad). */
void sb_tm_hex(const uint8_t *bytes, size_t n, char *out);
int sb_tm_unhex(const char *text, uint8_t *bytes, size_t n);

#endif
