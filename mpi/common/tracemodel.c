/* The deterministic trace model: see tracemodel.h for the formula. */
#include "tracemodel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aes.h"

enum { STREAM_KEY = 1, STREAM_PLAINTEXT = 2, STREAM_NOISE = 3 };

#define GOLDEN UINT64_C(0x9e3779b97f4a7c15)

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Counter-based: the value at (i, j) of a stream needs no earlier value. */
static uint64_t hash4(uint64_t seed, uint64_t stream, uint64_t i, uint64_t j)
{
    uint64_t h = mix64(seed + GOLDEN * stream);
    h = mix64(h + GOLDEN * (i + 1));
    return mix64(h + GOLDEN * (j + 1));
}

static void fill_bytes(uint64_t seed, uint64_t stream, uint64_t i, uint8_t out[16])
{
    for (int w = 0; w < 2; w++) {
        uint64_t h = hash4(seed, stream, i, (uint64_t)w);
        for (int b = 0; b < 8; b++)
            out[8 * w + b] = (uint8_t)(h >> (8 * b));
    }
}

static void seterr(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

int sb_tm_init(sb_trace_model *m, uint64_t seed, uint32_t samples, sb_dtype dtype,
               char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    if (samples < 8) {
        seterr(err, errlen, "samples must be at least 8 (the leakage points must be distinct)");
        return -1;
    }
    if (dtype != SB_INT8 && dtype != SB_INT16) {
        seterr(err, errlen, "dtype must be int8 or int16");
        return -1;
    }
    m->seed = seed;
    m->samples = samples;
    m->dtype = dtype;
    fill_bytes(seed, STREAM_KEY, 0, m->key);
    m->baseline_amplitude = 30;
    m->baseline_period = 50;
    m->noise_divisor = 24;
    const sb_tm_leak leaks[] = {
        {samples / 4, 0, 10},     {samples / 2, 0, 8}, {3 * (samples / 4), 0, 6},
        {samples / 8, 1, 10},     {5 * (samples / 8), 2, 10},
    };
    m->nleaks = (int)(sizeof leaks / sizeof leaks[0]);
    memcpy(m->leaks, leaks, sizeof leaks);
    return 0;
}

void sb_tm_inputs(const sb_trace_model *m, uint64_t i, uint8_t pt[16], uint8_t ct[16])
{
    fill_bytes(m->seed, STREAM_PLAINTEXT, i, pt);
    sb_aes128_encrypt(m->key, pt, ct);
}

static int32_t baseline(const sb_trace_model *m, uint32_t s)
{
    int32_t period = m->baseline_period, half = period / 2;
    if (half == 0)
        return 0;
    int32_t pos = (int32_t)(s % (uint32_t)period);
    int32_t dist = pos > half ? pos - half : half - pos; /* 0..half */
    return m->baseline_amplitude * (2 * dist - half) / half;
}

void sb_tm_samples(const sb_trace_model *m, uint64_t i, const uint8_t pt[16], void *out)
{
    const int32_t scale = m->dtype == SB_INT16 ? 256 : 1;
    const int32_t lo = m->dtype == SB_INT16 ? INT16_MIN : INT8_MIN;
    const int32_t hi = m->dtype == SB_INT16 ? INT16_MAX : INT8_MAX;
    for (uint32_t s = 0; s < m->samples; s++) {
        int32_t v = baseline(m, s);
        for (int k = 0; k < m->nleaks; k++) {
            const sb_tm_leak *l = &m->leaks[k];
            if (l->sample == s) {
                uint8_t x = sb_aes_sbox[pt[l->byte] ^ m->key[l->byte]];
                v += l->gain * (sb_hamming_weight8(x) - 4);
            }
        }
        uint64_t h = hash4(m->seed, STREAM_NOISE, i, s);
        int32_t u = (int32_t)(h & 0xff) + (int32_t)((h >> 8) & 0xff) +
                    (int32_t)((h >> 16) & 0xff) + (int32_t)((h >> 24) & 0xff) - 510;
        v = scale * v + scale * u / m->noise_divisor;
        if (v < lo)
            v = lo;
        if (v > hi)
            v = hi;
        if (m->dtype == SB_INT16)
            ((int16_t *)out)[s] = (int16_t)v;
        else
            ((int8_t *)out)[s] = (int8_t)v;
    }
}

int sb_tm_leak_points(const sb_trace_model *m, int byte, uint32_t *points, int max)
{
    int idx[SB_TM_MAX_LEAKS], n = 0;
    for (int k = 0; k < m->nleaks; k++)
        if (m->leaks[k].byte == byte)
            idx[n++] = k;
    /* Insertion sort by decreasing gain: a handful of entries. */
    for (int a = 1; a < n; a++)
        for (int b = a; b > 0 && m->leaks[idx[b]].gain > m->leaks[idx[b - 1]].gain; b--) {
            int t = idx[b];
            idx[b] = idx[b - 1];
            idx[b - 1] = t;
        }
    int out = n < max ? n : max;
    for (int a = 0; a < out; a++)
        points[a] = m->leaks[idx[a]].sample;
    return out;
}

void sb_tm_hex(const uint8_t *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int sb_tm_unhex(const char *text, uint8_t *bytes, size_t n)
{
    if (!text || strlen(text) != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int a = hexval(text[2 * i]), b = hexval(text[2 * i + 1]);
        if (a < 0 || b < 0)
            return -1;
        bytes[i] = (uint8_t)(a * 16 + b);
    }
    return 0;
}

static void add_int(cJSON *o, const char *name, int64_t value)
{
    cJSON_AddItemToObject(o, name, sb_json_number_i64(value));
}

cJSON *sb_tm_to_json(const sb_trace_model *m)
{
    char hex[33];
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    sb_tm_hex(m->key, 16, hex);
    cJSON_AddItemToObject(o, "seed", sb_json_number_u64(m->seed));
    add_int(o, "samples", m->samples);
    cJSON_AddStringToObject(o, "dtype", sb_dtype_name(m->dtype));
    cJSON_AddStringToObject(o, "key", hex);
    cJSON_AddStringToObject(o, "key_mode", "fixed per seed");
    add_int(o, "baseline_amplitude", m->baseline_amplitude);
    add_int(o, "baseline_period", m->baseline_period);
    add_int(o, "noise_divisor", m->noise_divisor);
    add_int(o, "scale", m->dtype == SB_INT16 ? 256 : 1);
    cJSON *leaks = cJSON_AddArrayToObject(o, "leakage");
    for (int k = 0; leaks && k < m->nleaks; k++) {
        cJSON *l = cJSON_CreateObject();
        if (!l)
            break;
        add_int(l, "sample", m->leaks[k].sample);
        add_int(l, "byte", m->leaks[k].byte);
        add_int(l, "gain", m->leaks[k].gain);
        cJSON_AddStringToObject(l, "target", "hamming_weight(sbox[plaintext[byte] ^ key[byte]])");
        cJSON_AddItemToArray(leaks, l);
    }
    uint32_t pts[SB_TM_MAX_LEAKS];
    int n = sb_tm_leak_points(m, 0, pts, SB_TM_MAX_LEAKS);
    cJSON *lp = cJSON_AddArrayToObject(o, "leakage_points");
    for (int k = 0; lp && k < n; k++)
        cJSON_AddItemToArray(lp, sb_json_number_i64(pts[k]));
    return o;
}

/* An integer member in [lo, hi], read exactly; -1 with a message naming it
 * otherwise. */
static int get_int(const cJSON *o, const char *name, int64_t lo, int64_t hi, int64_t *out,
                   char *err, size_t errlen)
{
    int64_t v = 0;
    if (sb_json_get_i64(&v, cJSON_GetObjectItemCaseSensitive(o, name)) != 0 || v < lo ||
        v > hi) {
        if (err && errlen)
            snprintf(err, errlen, "settings member '%s' is missing or not an integer in "
                     "[%lld, %lld]", name, (long long)lo, (long long)hi);
        return -1;
    }
    *out = v;
    return 0;
}

int sb_tm_from_json(sb_trace_model *m, const cJSON *o, char *err, size_t errlen)
{
    uint64_t seed;
    int64_t samples, amp, period, noise;
    if (!cJSON_IsObject(o)) {
        seterr(err, errlen, "settings are not a JSON object");
        return -1;
    }
    if (sb_json_get_u64(&seed, cJSON_GetObjectItemCaseSensitive(o, "seed")) != 0) {
        seterr(err, errlen, "settings member 'seed' is missing or not an integer in "
                            "[0, 18446744073709551615]");
        return -1;
    }
    if (get_int(o, "samples", 8, UINT32_MAX, &samples, err, errlen))
        return -1;
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(o, "dtype");
    sb_dtype dtype;
    if (!cJSON_IsString(dt) || sb_dtype_parse(&dtype, dt->valuestring) != 0) {
        seterr(err, errlen, "settings member 'dtype' is missing or not a dtype name");
        return -1;
    }
    if (sb_tm_init(m, seed, (uint32_t)samples, dtype, err, errlen))
        return -1;
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(o, "key");
    if (!cJSON_IsString(key) || sb_tm_unhex(key->valuestring, m->key, 16)) {
        seterr(err, errlen, "settings member 'key' is missing or not 32 hex digits");
        return -1;
    }
    if (get_int(o, "baseline_amplitude", 0, 30000, &amp, err, errlen) ||
        get_int(o, "baseline_period", 0, 1000000000, &period, err, errlen) ||
        get_int(o, "noise_divisor", 1, 1000000000, &noise, err, errlen))
        return -1;
    m->baseline_amplitude = (int)amp;
    m->baseline_period = (int)period;
    m->noise_divisor = (int)noise;
    const cJSON *leaks = cJSON_GetObjectItemCaseSensitive(o, "leakage");
    if (!cJSON_IsArray(leaks) || cJSON_GetArraySize(leaks) > SB_TM_MAX_LEAKS) {
        seterr(err, errlen, "settings member 'leakage' is missing or has too many entries");
        return -1;
    }
    m->nleaks = 0;
    const cJSON *l;
    cJSON_ArrayForEach(l, leaks)
    {
        int64_t sample, byte, gain;
        if (get_int(l, "sample", 0, samples - 1, &sample, err, errlen) ||
            get_int(l, "byte", 0, 15, &byte, err, errlen) ||
            get_int(l, "gain", -30000, 30000, &gain, err, errlen))
            return -1;
        m->leaks[m->nleaks++] = (sb_tm_leak){(uint32_t)sample, (int)byte, (int)gain};
    }
    return 0;
}
