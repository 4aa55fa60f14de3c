/* secbench-storage: the secbench.storage trace store in C, over parallel HDF5.
 * Files are the ones Python secbench and h5py read and write. */
#ifndef SECBENCH_STORAGE_H
#define SECBENCH_STORAGE_H

#include "secbench/errors.h"
#include "secbench/types.h"
#include "secbench/store.h"
#include "secbench/dataset.h"
#include "secbench/asset.h"
#include "secbench/shared.h"

#define SB_VERSION_MAJOR 0
#define SB_VERSION_MINOR 1
#define SB_VERSION_PATCH 0
#define SB_VERSION_STRING "0.1.0"

#ifdef __cplusplus
extern "C" {
#endif

/* Library version ("0.1.0"). */
const char *sb_version(void);
/* HDF5 version the library runs with ("1.10.8"). */
const char *sb_hdf5_version(void);

#ifdef __cplusplus
}
#endif
#endif
