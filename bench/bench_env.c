/* Prints what a benchmark figure depends on, as key=value lines: library and
 * HDF5 versions, the MPI library, and which MPI-IO component really ran. The
 * component is probed rather than assumed: ROMIO reports its romio_* hints
 * through MPI_File_get_info, Open MPI's OMPIO does not. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_sb.h"

static const char *io_component(const char *dir, const char *mpi_version)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/.sb-bench-probe-%ld", dir, (long)getpid());
    MPI_File fh;
    if (MPI_File_open(MPI_COMM_SELF, path, MPI_MODE_CREATE | MPI_MODE_RDWR | MPI_MODE_DELETE_ON_CLOSE,
                      MPI_INFO_NULL, &fh) != MPI_SUCCESS)
        return "unknown (cannot open a probe file)";
    MPI_Info info;
    int nkeys = 0, romio = 0;
    MPI_File_get_info(fh, &info);
    MPI_Info_get_nkeys(info, &nkeys);
    for (int i = 0; i < nkeys; i++) {
        char key[MPI_MAX_INFO_KEY + 1];
        MPI_Info_get_nthkey(info, i, key);
        if (strncmp(key, "romio_", 6) == 0)
            romio = 1;
    }
    MPI_Info_free(&info);
    MPI_File_close(&fh);
    if (romio)
        return "ROMIO";
    (void)mpi_version;
    return "unknown (no romio_* hints; run.sh asks Open MPI itself)";
}

int main(int argc, char **argv)
{
    const char *dir = ".";
    const cli_option opts[] = {BC_OPT("dir", CLI_OPT_STRING, &dir, "directory probed for the MPI-IO component")};
    MPI_Init(&argc, &argv);
    int prc = bc_parse(argc, argv, opts, 1, "bench_env: versions and MPI-IO component");
    if (prc >= 0) {
        MPI_Finalize();
        return prc;
    }
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(version, &len);
    char *nl = strchr(version, '\n');
    if (nl)
        *nl = '\0';
    for (char *p = version; *p; p++)
        if (*p == ',')
            *p = ';';
    const char *env_io = getenv("OMPI_MCA_io");
    printf("secbench_storage=%s\nhdf5=%s\nmpi=%s\nmpi_io_component=%s\nOMPI_MCA_io=%s\n",
           sb_version(), sb_hdf5_version(), version, io_component(dir, version),
           env_io ? env_io : "(unset)");
    MPI_Finalize();
    return 0;
}
