/* MPI implementation quirks the library works around. */
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "mpienv.h"

static bool romio_selected(void)
{
    const char *io = getenv("OMPI_MCA_io");
    return io && strstr(io, "romio") && !strstr(io, "^romio");
}

bool sb__mpi_collective_reads_safe(void)
{
    char version[MPI_MAX_LIBRARY_VERSION_STRING] = "";
    int len = 0;
    MPI_Get_library_version(version, &len);
    const char *v = strstr(version, "Open MPI v4.1.");
    if (!v)
        return true;
    if (atoi(v + strlen("Open MPI v4.1.")) >= 5 || romio_selected())
        return true;
    const char *ds = getenv("OMPI_MCA_fbtl_posix_read_datasieving");
    return ds && strcmp(ds, "0") == 0;
}

bool sb__mpi_io_is_romio(void)
{
    char version[MPI_MAX_LIBRARY_VERSION_STRING] = "";
    int len = 0;
    MPI_Get_library_version(version, &len);
    if (!strstr(version, "Open MPI"))
        return true; /* MPICH and its derivatives have only ROMIO */
    return romio_selected();
}
