/* What every header of the library shares: the export macro, the version,
 * the tri-state of options, and the one function that frees what the
 * library returns. */
#ifndef SECBENCH_COMMON_H
#define SECBENCH_COMMON_H

#ifdef __cplusplus
extern "C" {
#endif

#define SB_VERSION_MAJOR 0
#define SB_VERSION_MINOR 2
#define SB_VERSION_PATCH 0
#define SB_VERSION_STRING "0.2.0"

/* Public functions are the only symbols the shared library exports (it is
 * built with hidden visibility). */
#if defined(__GNUC__) || defined(__clang__)
#define SB_API __attribute__((visibility("default")))
#else
#define SB_API
#endif

/* Options that the library can decide by itself (SB_AUTO, the zero value)
 * or that the caller forces off or on. */
typedef enum sb_choice { SB_AUTO = 0, SB_NO = 1, SB_YES = 2 } sb_choice;

/* Library version ("0.2.0"). */
SB_API const char *sb_version(void);
/* HDF5 version the library runs with ("1.10.8"). */
SB_API const char *sb_hdf5_version(void);

/* Free anything the library returned: name lists (one block), array data
 * (sb_array.data filled by a getter), asset bytes, JSON text. The one
 * exception is a cJSON document, which cJSON_Delete frees. NULL is a no-op. */
SB_API void sb_free(void *ptr);

#ifdef __cplusplus
}
#endif
#endif
