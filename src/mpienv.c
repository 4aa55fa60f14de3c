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

bool sb__mpi_file_is_romio(hid_t file)
{
    void *handle = NULL;
    if (H5Fget_vfd_handle(file, H5P_DEFAULT, &handle) < 0 || !handle)
        return false;
    MPI_File fh = *(MPI_File *)handle;
    MPI_Info info = MPI_INFO_NULL;
    if (MPI_File_get_info(fh, &info) != MPI_SUCCESS || info == MPI_INFO_NULL)
        return false;
    /* ROMIO reports its collective buffering switches among the hints. */
    char value[MPI_MAX_INFO_VAL + 1];
    int found = 0;
    MPI_Info_get(info, "romio_cb_write", MPI_MAX_INFO_VAL, value, &found);
    MPI_Info_free(&info);
    return found != 0;
}
