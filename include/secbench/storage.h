/* secbench-storage: the secbench.storage trace store in C, over parallel HDF5.
 * Files are the ones Python secbench and h5py read and write. */
#ifndef SECBENCH_STORAGE_H
#define SECBENCH_STORAGE_H

#include "secbench/common.h"
#include "secbench/errors.h"
#include "secbench/types.h"
#include "secbench/store.h"
#include "secbench/dataset.h"
#include "secbench/asset.h"
#include "secbench/json.h"
#include "secbench/export.h"
#include "secbench/shared.h"

#endif
