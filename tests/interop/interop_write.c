/* Writes the store that check_c_layout.py reads with h5py to check that the
 * library lays files out exactly as Python secbench does.
 *
 * usage: interop_write PATH
 *
 * The values follow rules that check_c_layout.py computes again:
 *   "aes/traces" capacity 20, 13 rows (10 by extend, 3 by append), fields
 *     samples int16 (50):   (37r + 11j) % 2000 - 1000
 *     plaintext uint8 (16): (16r + j) % 256
 *     key uint8 scalar:     7r % 256
 *     valid bool scalar:    r % 3 == 0
 *     temp float64 (2,3):   r + 0.5a + 0.25b
 *   assets: "raw" bytes 0..255, "window" int32 (2,5) i*i - 7,
 *     "coeffs" float32 [0.5, -0.25, 3.0, 0.001], "config" JSON (see CONFIG)
 *   "all/dtypes" capacity 6, 4 rows, one scalar field per dtype named after it:
 *     bool r % 2; integers [min, max, 0, 42][r]; float32 1.5r - 2; float64 r / 3
 *   "deep/er/nest" capacity 3, 3 rows, field x uint16 (2,2): 4r + k
 *   "never" capacity 7, fields a, b, c, never written
 * and PATH.cut.h5: an export of "aes/traces" (chunks of 4 rows) whose process
 * died after its first chunk, so its copy still carries _sb_incomplete. */
#define _XOPEN_SOURCE 700
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <secbench/storage.h>

#define CONFIG                                                                          \
    "{\"scope\": \"picoscope 6404\", \"samples\": 50, \"gain\": 1.25, \"channels\": "   \
    "[\"A\", \"B\"], \"unit\": \"\xc2\xb5s\", \"enabled\": true, \"none\": null}"

#define TRY(expr)                                                                       \
    do {                                                                                \
        int rc_ = (expr);                                                               \
        if (rc_ != 0) {                                                                 \
            fprintf(stderr, "%s:%d: %s failed: %s: %s\n", __FILE__, __LINE__, #expr,    \
                    sb_error_name(rc_), sb_last_error_message());                       \
            exit(1);                                                                    \
        }                                                                               \
    } while (0)

typedef struct trace_row {
    int16_t samples[50];
    uint8_t plaintext[16];
    uint8_t key;
    uint8_t valid;
    double temp[2][3];
} trace_row;

static void make_trace_row(int r, trace_row *t) {
    for (int j = 0; j < 50; j++)
        t->samples[j] = (int16_t)((37 * r + 11 * j) % 2000 - 1000);
    for (int j = 0; j < 16; j++)
        t->plaintext[j] = (uint8_t)((16 * r + j) % 256);
    t->key = (uint8_t)(7 * r % 256);
    t->valid = r % 3 == 0;
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 3; b++)
            t->temp[a][b] = r + 0.5 * a + 0.25 * b;
}

static void write_traces(sb_store *s) {
    const char *const fields[] = {"samples", "plaintext", "key", "valid", "temp"};
    sb_dataset *ds;
    TRY(sb_store_create_dataset(&ds, s, "aes/traces", 20, 5, fields));
    enum { NEXT = 10 };
    static int16_t samples[NEXT][50];
    static uint8_t plaintext[NEXT][16], key[NEXT], valid[NEXT];
    static double temp[NEXT][2][3];
    for (int r = 0; r < NEXT; r++) {
        trace_row t;
        make_trace_row(r, &t);
        memcpy(samples[r], t.samples, sizeof t.samples);
        memcpy(plaintext[r], t.plaintext, sizeof t.plaintext);
        key[r] = t.key;
        valid[r] = t.valid;
        memcpy(temp[r], t.temp, sizeof t.temp);
    }
    sb_array cols[5];
    TRY(sb_array_wrap(&cols[0], SB_INT16, 2, (uint64_t[]){NEXT, 50}, samples));
    TRY(sb_array_wrap(&cols[1], SB_UINT8, 2, (uint64_t[]){NEXT, 16}, plaintext));
    TRY(sb_array_wrap(&cols[2], SB_UINT8, 1, (uint64_t[]){NEXT}, key));
    TRY(sb_array_wrap(&cols[3], SB_BOOL, 1, (uint64_t[]){NEXT}, valid));
    TRY(sb_array_wrap(&cols[4], SB_FLOAT64, 3, (uint64_t[]){NEXT, 2, 3}, temp));
    TRY(sb_dataset_extend(ds, 5, cols));
    for (int r = NEXT; r < 13; r++) {
        trace_row t;
        make_trace_row(r, &t);
        sb_array row[5];
        TRY(sb_array_wrap(&row[0], SB_INT16, 1, (uint64_t[]){50}, t.samples));
        TRY(sb_array_wrap(&row[1], SB_UINT8, 1, (uint64_t[]){16}, t.plaintext));
        TRY(sb_array_wrap(&row[2], SB_UINT8, 0, NULL, &t.key));
        TRY(sb_array_wrap(&row[3], SB_BOOL, 0, NULL, &t.valid));
        TRY(sb_array_wrap(&row[4], SB_FLOAT64, 2, (uint64_t[]){2, 3}, t.temp));
        TRY(sb_dataset_append(ds, 5, row));
    }
    unsigned char raw[256];
    for (int i = 0; i < 256; i++)
        raw[i] = (unsigned char)i;
    TRY(sb_dataset_add_asset_bytes(ds, "raw", raw, sizeof raw, false));
    int32_t window[2][5];
    for (int i = 0; i < 10; i++)
        (&window[0][0])[i] = i * i - 7;
    sb_array a;
    TRY(sb_array_wrap(&a, SB_INT32, 2, (uint64_t[]){2, 5}, window));
    TRY(sb_dataset_add_asset_array(ds, "window", &a, false));
    float coeffs[4] = {0.5f, -0.25f, 3.0f, 0.001f};
    TRY(sb_array_wrap(&a, SB_FLOAT32, 1, (uint64_t[]){4}, coeffs));
    TRY(sb_dataset_add_asset_array(ds, "coeffs", &a, false));
    cJSON *doc = cJSON_Parse(CONFIG);
    if (!doc) {
        fprintf(stderr, "bad CONFIG\n");
        exit(1);
    }
    TRY(sb_dataset_add_json_asset(ds, "config", doc, false));
    cJSON_Delete(doc);
    TRY(sb_dataset_close(ds));
}

static void write_dtypes(sb_store *s) {
    const char *const names[] = {"bool", "int8", "uint8", "int16", "uint16", "int32",
                                 "uint32", "int64", "uint64", "float32", "float64"};
    sb_dataset *ds;
    TRY(sb_store_create_dataset(&ds, s, "all/dtypes", 6, 11, names));
    for (int r = 0; r < 4; r++) {
        uint8_t b = (uint8_t)(r % 2);
        int8_t i8 = (int8_t[]){INT8_MIN, INT8_MAX, 0, 42}[r];
        uint8_t u8 = (uint8_t[]){0, UINT8_MAX, 0, 42}[r];
        int16_t i16 = (int16_t[]){INT16_MIN, INT16_MAX, 0, 42}[r];
        uint16_t u16 = (uint16_t[]){0, UINT16_MAX, 0, 42}[r];
        int32_t i32 = (int32_t[]){INT32_MIN, INT32_MAX, 0, 42}[r];
        uint32_t u32 = (uint32_t[]){0, UINT32_MAX, 0, 42}[r];
        int64_t i64 = (int64_t[]){INT64_MIN, INT64_MAX, 0, 42}[r];
        uint64_t u64 = (uint64_t[]){0, UINT64_MAX, 0, 42}[r];
        float f32 = 1.5f * (float)r - 2.0f;
        double f64 = r / 3.0;
        const sb_dtype t[11] = {SB_BOOL, SB_INT8, SB_UINT8, SB_INT16, SB_UINT16, SB_INT32,
                                SB_UINT32, SB_INT64, SB_UINT64, SB_FLOAT32, SB_FLOAT64};
        void *v[11] = {&b, &i8, &u8, &i16, &u16, &i32, &u32, &i64, &u64, &f32, &f64};
        sb_array row[11];
        for (int i = 0; i < 11; i++)
            TRY(sb_array_wrap(&row[i], t[i], 0, NULL, v[i]));
        TRY(sb_dataset_append(ds, 11, row));
    }
    TRY(sb_dataset_close(ds));
}

/* The numpy dtypes beyond the plain numbers, as h5py writes them: float16,
 * complex64/128 (compounds of "r" and "i"), fixed bytes S8; fields and
 * assets. Row r of each: half = HALF[r], c64 = (r, -r/2), c128 = (r/3,
 * 1e300), s8 = BYTES[r]. */
static const uint16_t HALF[4] = {0x3C00 /* 1 */, 0xC100 /* -2.5 */, 0x3800 /* 0.5 */,
                                 0x7BFF /* 65504 */};
static const char BYTES[4][8] = {"abcdefgh", {'a', 0, 'b'}, {0}, "\xff\x01zzzzzz"};

static void write_new_dtypes(sb_store *s) {
    const char *const names[] = {"half", "c64", "c128", "s8"};
    sb_dataset *ds;
    TRY(sb_store_create_dataset(&ds, s, "all/more", 5, 4, names));
    for (int r = 0; r < 4; r++) {
        float c64[2] = {(float)r, -(float)r / 2};
        double c128[2] = {r / 3.0, 1e300};
        sb_array row[4];
        TRY(sb_array_wrap(&row[0], SB_FLOAT16, 0, NULL, &HALF[r]));
        TRY(sb_array_wrap(&row[1], SB_COMPLEX64, 0, NULL, c64));
        TRY(sb_array_wrap(&row[2], SB_COMPLEX128, 0, NULL, c128));
        TRY(sb_array_wrap(&row[3], SB_BYTES(8), 0, NULL, BYTES[r]));
        TRY(sb_dataset_append(ds, 4, row));
    }
    sb_array a;
    TRY(sb_array_wrap(&a, SB_FLOAT16, 1, (uint64_t[]){4}, HALF));
    TRY(sb_dataset_add_asset_array(ds, "half_asset", &a, false));
    TRY(sb_array_wrap(&a, SB_BYTES(8), 1, (uint64_t[]){4}, BYTES));
    TRY(sb_dataset_add_asset_array(ds, "bytes_asset", &a, false));
    double z[2][2] = {{1, 2}, {3, 4}};
    TRY(sb_array_wrap(&a, SB_COMPLEX128, 1, (uint64_t[]){2}, z));
    TRY(sb_dataset_add_asset_array(ds, "complex_asset", &a, false));
    TRY(sb_dataset_close(ds));
}

static void write_nest_and_never(sb_store *s) {
    const char *const x[] = {"x"};
    sb_dataset *ds;
    TRY(sb_store_create_dataset(&ds, s, "deep/er/nest", 3, 1, x));
    uint16_t v[3][2][2];
    for (int r = 0; r < 3; r++)
        for (int k = 0; k < 4; k++)
            (&v[r][0][0])[k] = (uint16_t)(4 * r + k);
    sb_array col;
    TRY(sb_array_wrap(&col, SB_UINT16, 3, (uint64_t[]){3, 2, 2}, v));
    TRY(sb_dataset_extend(ds, 1, &col));
    TRY(sb_dataset_close(ds));
    const char *const abc[] = {"a", "b", "c"};
    TRY(sb_store_create_dataset(&ds, s, "never", 7, 3, abc));
    TRY(sb_dataset_close(ds));
}

/* Dies as a killed job would: nothing closed, nothing flushed. */
static void die(uint64_t done, uint64_t total, void *payload) {
    (void)done;
    (void)total;
    (void)payload;
    _exit(3);
}

static void write_cut_export(const char *path) {
    char cut[4096];
    snprintf(cut, sizeof cut, "%s.cut.h5", path);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(1);
    }
    if (pid == 0) {
        sb_store *src, *dst;
        TRY(sb_store_open(&src, path, SB_READ, NULL));
        TRY(sb_store_open(&dst, cut, SB_CREATE, NULL));
        sb_export_options o;
        sb_export_options_init(&o, SB_EXPORT_OPTIONS_VERSION);
        o.chunk_size = 4;
        o.progress = die;
        sb_store_export_dataset(src, "aes/traces", dst, &o);
        _exit(2);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 3) {
        fprintf(stderr, "the cut export did not die mid-copy (status %d)\n", status);
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s PATH\n", argv[0]);
        return 2;
    }
    sb_store *s;
    TRY(sb_store_open(&s, argv[1], SB_CREATE, NULL));
    write_traces(s);
    write_dtypes(s);
    write_new_dtypes(s);
    write_nest_and_never(s);
    TRY(sb_store_close(s));
    write_cut_export(argv[1]);
    return 0;
}
