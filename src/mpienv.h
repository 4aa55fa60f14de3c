/* What the MPI library underneath can be trusted with. */
#ifndef SB_MPIENV_H
#define SB_MPIENV_H

#include <hdf5.h>

#include "base.h"

/* Open MPI 4.1.0-4.1.4's OMPIO reads wrong data in collective reads that use
 * data sieving (open-mpi/ompi#10546, fixed in 4.1.5). */
bool sb__mpi_collective_reads_safe(void);
/* Whether the MPI-IO layer of an open parallel file is ROMIO (MPICH, or Open
 * MPI's romio component), whose collective writes reach every rank with a
 * write failure (OMPIO's do not, docs/reliability.md). */
bool sb__mpi_file_is_romio(hid_t file);

#endif
