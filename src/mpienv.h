/* What the MPI library underneath can be trusted with. */
#ifndef SB_MPIENV_H
#define SB_MPIENV_H

#include <hdf5.h>

#include "base.h"

/* Open MPI 4.1.0-4.1.4's OMPIO reads wrong data in collective reads that use
 * data sieving (open-mpi/ompi#10546, fixed in 4.1.5). */
bool sb__mpi_collective_reads_safe(void);
/* Whether MPI-IO is ROMIO (MPICH, or Open MPI told to use its romio
 * component), whose collective writes report a write failure to every rank
 * (OMPIO's, Open MPI's default, do not: docs/reliability.md). */
bool sb__mpi_io_is_romio(void);

#endif
