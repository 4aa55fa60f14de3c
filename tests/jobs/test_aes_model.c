/* The AES-128 of mpi/common against FIPS-197's own vectors, and the trace
 * model's promises: trace i depends only on (seed, i), the settings survive a
 * JSON round trip, and the samples follow the documented formula. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aes.h"
#include "tracemodel.h"

static int failures;

#define EXPECT(cond, ...)                                                      \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                    \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
            failures++;                                                        \
        }                                                                      \
    } while (0)

static void unhex(const char *hex, uint8_t *out)
{
    if (sb_tm_unhex(hex, out, strlen(hex) / 2) != 0) {
        fprintf(stderr, "bad hex in the test itself: %s\n", hex);
        exit(2);
    }
}

static void check_vector(const char *key_hex, const char *pt_hex, const char *ct_hex)
{
    uint8_t key[16], pt[16], want[16], got[16];
    char got_hex[33];
    unhex(key_hex, key);
    unhex(pt_hex, pt);
    unhex(ct_hex, want);
    sb_aes128_encrypt(key, pt, got);
    sb_tm_hex(got, 16, got_hex);
    EXPECT(memcmp(got, want, 16) == 0, "AES(%s, %s) = %s, want %s", key_hex, pt_hex, got_hex,
           ct_hex);
    /* in and out may alias */
    sb_aes128_encrypt(key, pt, pt);
    EXPECT(memcmp(pt, want, 16) == 0, "AES in place differs for key %s", key_hex);
}

static void check_model_determinism(void)
{
    sb_trace_model a, b;
    char err[200];
    EXPECT(sb_tm_init(&a, 42, 64, SB_INT16, err, sizeof err) == 0, "init: %s", err);
    EXPECT(sb_tm_init(&b, 42, 64, SB_INT16, err, sizeof err) == 0, "init: %s", err);
    int16_t s1[64], s2[64];
    uint8_t pt1[16], ct1[16], pt2[16], ct2[16];
    /* Trace 7 made after trace 1000 equals trace 7 made first. */
    sb_tm_inputs(&a, 7, pt1, ct1);
    sb_tm_samples(&a, 7, pt1, s1);
    sb_tm_inputs(&b, 1000, pt2, ct2);
    sb_tm_samples(&b, 1000, pt2, s2);
    sb_tm_inputs(&b, 7, pt2, ct2);
    sb_tm_samples(&b, 7, pt2, s2);
    EXPECT(memcmp(pt1, pt2, 16) == 0 && memcmp(ct1, ct2, 16) == 0, "inputs of trace 7 vary");
    EXPECT(memcmp(s1, s2, sizeof s1) == 0, "samples of trace 7 vary");
    uint8_t check[16];
    sb_aes128_encrypt(a.key, pt1, check);
    EXPECT(memcmp(check, ct1, 16) == 0, "ciphertext is not AES of the plaintext");
    sb_tm_inputs(&a, 8, pt2, ct2);
    EXPECT(memcmp(pt1, pt2, 16) != 0, "traces 7 and 8 share a plaintext");
    EXPECT(sb_tm_init(&b, 43, 64, SB_INT16, err, sizeof err) == 0, "init: %s", err);
    EXPECT(memcmp(a.key, b.key, 16) != 0, "seeds 42 and 43 share a key");
}

/* At a leakage point with the noise removed, the sample moves with the
 * Hamming weight of the S-box output: check the formula on many traces. */
static void check_model_leakage(void)
{
    sb_trace_model m;
    char err[200];
    EXPECT(sb_tm_init(&m, 5, 400, SB_INT8, err, sizeof err) == 0, "init: %s", err);
    uint32_t pts[4];
    int n = sb_tm_leak_points(&m, 0, pts, 4);
    EXPECT(n == 3 && pts[0] == 100 && pts[1] == 200 && pts[2] == 300,
           "byte 0 leaks at %d points (%u, %u, %u), want 100, 200, 300 by gain", n, pts[0],
           pts[1], pts[2]);
    /* Mean sample per Hamming weight class: slope must be the gain (10). */
    double sum[9] = {0}, cnt[9] = {0};
    int8_t s[400];
    for (uint64_t i = 0; i < 20000; i++) {
        uint8_t pt[16], ct[16];
        sb_tm_inputs(&m, i, pt, ct);
        sb_tm_samples(&m, i, pt, s);
        int hw = sb_hamming_weight8(sb_aes_sbox[pt[0] ^ m.key[0]]);
        sum[hw] += s[100];
        cnt[hw] += 1;
    }
    for (int hw = 2; hw <= 6; hw++) {
        double slope = sum[hw] / cnt[hw] - sum[hw - 1] / cnt[hw - 1];
        EXPECT(slope > 8.5 && slope < 11.5, "slope between HW %d and %d is %.2f, want ~10",
               hw - 1, hw, slope);
    }
}

static void check_json_round_trip(void)
{
    sb_trace_model a, b;
    char err[200];
    EXPECT(sb_tm_init(&a, 123456789, 500, SB_INT8, err, sizeof err) == 0, "init: %s", err);
    a.leaks[1].gain = 3;
    cJSON *j = sb_tm_to_json(&a);
    EXPECT(j != NULL, "to_json failed");
    EXPECT(sb_tm_from_json(&b, j, err, sizeof err) == 0, "from_json: %s", err);
    EXPECT(memcmp(&a, &b, sizeof a) == 0, "model differs after a JSON round trip");
    cJSON_ReplaceItemInObject(j, "key", cJSON_CreateString("00zz"));
    EXPECT(sb_tm_from_json(&b, j, err, sizeof err) != 0 && strstr(err, "key"),
           "a bad key is accepted (err: %s)", err);
    cJSON_Delete(j);
    EXPECT(sb_tm_init(&a, 1, 4, SB_INT8, err, sizeof err) != 0 && strstr(err, "samples"),
           "4 samples accepted");
    EXPECT(sb_tm_init(&a, 1, 100, SB_FLOAT32, err, sizeof err) != 0 && strstr(err, "dtype"),
           "float32 accepted");
}

int main(void)
{
    /* FIPS-197 appendix C.1 and appendix B. */
    check_vector("000102030405060708090a0b0c0d0e0f", "00112233445566778899aabbccddeeff",
                 "69c4e0d86a7b0430d8cdb78070b4c55a");
    check_vector("2b7e151628aed2a6abf7158809cf4f3c", "3243f6a8885a308d313198a2e0370734",
                 "3925841d02dc09fbdc118597196a0b32");
    EXPECT(sb_hamming_weight8(0xff) == 8 && sb_hamming_weight8(0x00) == 0 &&
               sb_hamming_weight8(0x5a) == 4, "Hamming weight is wrong");
    check_model_determinism();
    check_model_leakage();
    check_json_round_trip();
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    else
        printf("all AES and trace model checks passed\n");
    return failures ? 1 : 0;
}
