/* A PMPI shim for LD_PRELOAD: counts the MPI calls a program makes (its own,
 * the library's and HDF5's; not those an MPI-IO layer makes inside the MPI
 * library) between MPI_Pcontrol(1, "label") and MPI_Pcontrol(0), and prints
 * them from rank 0 of MPI_COMM_WORLD as CSV lines on stderr:
 *   count,<label>,<MPI function>,<calls>,<bytes sent by this rank>
 * Each MPI_Pcontrol also makes a failing access("/sb-mark/<label>/begin|end")
 * so that `strace -f` shows where a labelled call starts and ends.
 * Without this shim MPI_Pcontrol does nothing. Used for docs/scaling.md:
 *   LD_PRELOAD=$BUILD/bench/libsb_mpi_count.so mpirun -np 4 bench_collectives --library */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <mpi.h>

enum {
    C_ALLREDUCE, C_REDUCE, C_BCAST, C_BARRIER, C_ALLGATHER, C_ALLGATHERV, C_GATHER, C_GATHERV,
    C_SCATTER, C_SCATTERV, C_ALLTOALL, C_ALLTOALLV, C_EXSCAN, C_SCAN, C_COMM_DUP, C_SEND,
    C_RECV, C_ISEND, C_IRECV, C_FILE_OPEN, C_FILE_CLOSE, C_FILE_SET_VIEW, C_FILE_WRITE_AT,
    C_FILE_WRITE_AT_ALL, C_FILE_READ_AT, C_FILE_READ_AT_ALL, C_FILE_SYNC, C_FILE_SET_SIZE,
    C_FILE_GET_SIZE, C_N
};
static const char *NAMES[C_N] = {
    "MPI_Allreduce", "MPI_Reduce", "MPI_Bcast", "MPI_Barrier", "MPI_Allgather",
    "MPI_Allgatherv", "MPI_Gather", "MPI_Gatherv", "MPI_Scatter", "MPI_Scatterv",
    "MPI_Alltoall", "MPI_Alltoallv", "MPI_Exscan", "MPI_Scan", "MPI_Comm_dup", "MPI_Send",
    "MPI_Recv", "MPI_Isend", "MPI_Irecv", "MPI_File_open", "MPI_File_close",
    "MPI_File_set_view", "MPI_File_write_at", "MPI_File_write_at_all", "MPI_File_read_at",
    "MPI_File_read_at_all", "MPI_File_sync", "MPI_File_set_size", "MPI_File_get_size"};

static int on;
static char label[128];
static unsigned long long calls[C_N], bytes[C_N];

static void add(int which, int count, MPI_Datatype t)
{
    if (!on)
        return;
    int size = 0;
    if (count > 0 && t != MPI_DATATYPE_NULL)
        PMPI_Type_size(t, &size);
    calls[which]++;
    bytes[which] += (unsigned long long)(count > 0 ? count : 0) * (unsigned long long)size;
}

static void mark(const char *what)
{
    char path[200];
    snprintf(path, sizeof path, "/sb-mark/%s/%s", label, what);
    (void)access(path, F_OK);
}

int MPI_Pcontrol(const int level, ...)
{
    if (level == 1) {
        va_list ap;
        va_start(ap, level);
        const char *l = va_arg(ap, const char *);
        va_end(ap);
        snprintf(label, sizeof label, "%s", l ? l : "");
        memset(calls, 0, sizeof calls);
        memset(bytes, 0, sizeof bytes);
        mark("begin");
        on = 1;
    } else if (on) {
        on = 0;
        mark("end");
        int rank = 0;
        PMPI_Comm_rank(MPI_COMM_WORLD, &rank);
        for (int i = 0; rank == 0 && i < C_N; i++)
            if (calls[i])
                fprintf(stderr, "count,%s,%s,%llu,%llu\n", label, NAMES[i], calls[i], bytes[i]);
    }
    return MPI_SUCCESS;
}

int MPI_Allreduce(const void *s, void *r, int n, MPI_Datatype t, MPI_Op op, MPI_Comm c)
{
    add(C_ALLREDUCE, n, t);
    return PMPI_Allreduce(s, r, n, t, op, c);
}
int MPI_Reduce(const void *s, void *r, int n, MPI_Datatype t, MPI_Op op, int root, MPI_Comm c)
{
    add(C_REDUCE, n, t);
    return PMPI_Reduce(s, r, n, t, op, root, c);
}
int MPI_Bcast(void *b, int n, MPI_Datatype t, int root, MPI_Comm c)
{
    add(C_BCAST, n, t);
    return PMPI_Bcast(b, n, t, root, c);
}
int MPI_Barrier(MPI_Comm c)
{
    add(C_BARRIER, 0, MPI_DATATYPE_NULL);
    return PMPI_Barrier(c);
}
int MPI_Allgather(const void *s, int sn, MPI_Datatype st, void *r, int rn, MPI_Datatype rt,
                  MPI_Comm c)
{
    add(C_ALLGATHER, sn, st);
    return PMPI_Allgather(s, sn, st, r, rn, rt, c);
}
int MPI_Allgatherv(const void *s, int sn, MPI_Datatype st, void *r, const int rn[],
                   const int d[], MPI_Datatype rt, MPI_Comm c)
{
    add(C_ALLGATHERV, sn, st);
    return PMPI_Allgatherv(s, sn, st, r, rn, d, rt, c);
}
int MPI_Gather(const void *s, int sn, MPI_Datatype st, void *r, int rn, MPI_Datatype rt,
               int root, MPI_Comm c)
{
    add(C_GATHER, sn, st);
    return PMPI_Gather(s, sn, st, r, rn, rt, root, c);
}
int MPI_Gatherv(const void *s, int sn, MPI_Datatype st, void *r, const int rn[], const int d[],
                MPI_Datatype rt, int root, MPI_Comm c)
{
    add(C_GATHERV, sn, st);
    return PMPI_Gatherv(s, sn, st, r, rn, d, rt, root, c);
}
int MPI_Scatter(const void *s, int sn, MPI_Datatype st, void *r, int rn, MPI_Datatype rt,
                int root, MPI_Comm c)
{
    add(C_SCATTER, rn, rt);
    return PMPI_Scatter(s, sn, st, r, rn, rt, root, c);
}
int MPI_Scatterv(const void *s, const int sn[], const int d[], MPI_Datatype st, void *r, int rn,
                 MPI_Datatype rt, int root, MPI_Comm c)
{
    add(C_SCATTERV, rn, rt);
    return PMPI_Scatterv(s, sn, d, st, r, rn, rt, root, c);
}
int MPI_Alltoall(const void *s, int sn, MPI_Datatype st, void *r, int rn, MPI_Datatype rt,
                 MPI_Comm c)
{
    int p = 1;
    PMPI_Comm_size(c, &p);
    add(C_ALLTOALL, sn * p, st);
    return PMPI_Alltoall(s, sn, st, r, rn, rt, c);
}
int MPI_Alltoallv(const void *s, const int sn[], const int sd[], MPI_Datatype st, void *r,
                  const int rn[], const int rd[], MPI_Datatype rt, MPI_Comm c)
{
    int p = 1, n = 0;
    PMPI_Comm_size(c, &p);
    for (int i = 0; i < p; i++)
        n += sn[i];
    add(C_ALLTOALLV, n, st);
    return PMPI_Alltoallv(s, sn, sd, st, r, rn, rd, rt, c);
}
int MPI_Exscan(const void *s, void *r, int n, MPI_Datatype t, MPI_Op op, MPI_Comm c)
{
    add(C_EXSCAN, n, t);
    return PMPI_Exscan(s, r, n, t, op, c);
}
int MPI_Scan(const void *s, void *r, int n, MPI_Datatype t, MPI_Op op, MPI_Comm c)
{
    add(C_SCAN, n, t);
    return PMPI_Scan(s, r, n, t, op, c);
}
int MPI_Comm_dup(MPI_Comm c, MPI_Comm *out)
{
    add(C_COMM_DUP, 0, MPI_DATATYPE_NULL);
    return PMPI_Comm_dup(c, out);
}
int MPI_Send(const void *b, int n, MPI_Datatype t, int dst, int tag, MPI_Comm c)
{
    add(C_SEND, n, t);
    return PMPI_Send(b, n, t, dst, tag, c);
}
int MPI_Recv(void *b, int n, MPI_Datatype t, int src, int tag, MPI_Comm c, MPI_Status *st)
{
    add(C_RECV, 0, t);
    return PMPI_Recv(b, n, t, src, tag, c, st);
}
int MPI_Isend(const void *b, int n, MPI_Datatype t, int dst, int tag, MPI_Comm c, MPI_Request *rq)
{
    add(C_ISEND, n, t);
    return PMPI_Isend(b, n, t, dst, tag, c, rq);
}
int MPI_Irecv(void *b, int n, MPI_Datatype t, int src, int tag, MPI_Comm c, MPI_Request *rq)
{
    add(C_IRECV, 0, t);
    return PMPI_Irecv(b, n, t, src, tag, c, rq);
}
int MPI_File_open(MPI_Comm c, const char *name, int mode, MPI_Info info, MPI_File *fh)
{
    add(C_FILE_OPEN, 0, MPI_DATATYPE_NULL);
    return PMPI_File_open(c, name, mode, info, fh);
}
int MPI_File_close(MPI_File *fh)
{
    add(C_FILE_CLOSE, 0, MPI_DATATYPE_NULL);
    return PMPI_File_close(fh);
}
int MPI_File_set_view(MPI_File fh, MPI_Offset disp, MPI_Datatype et, MPI_Datatype ft,
                      const char *rep, MPI_Info info)
{
    add(C_FILE_SET_VIEW, 0, MPI_DATATYPE_NULL);
    return PMPI_File_set_view(fh, disp, et, ft, rep, info);
}
int MPI_File_write_at(MPI_File fh, MPI_Offset off, const void *b, int n, MPI_Datatype t,
                      MPI_Status *st)
{
    add(C_FILE_WRITE_AT, n, t);
    return PMPI_File_write_at(fh, off, b, n, t, st);
}
int MPI_File_write_at_all(MPI_File fh, MPI_Offset off, const void *b, int n, MPI_Datatype t,
                          MPI_Status *st)
{
    add(C_FILE_WRITE_AT_ALL, n, t);
    return PMPI_File_write_at_all(fh, off, b, n, t, st);
}
int MPI_File_read_at(MPI_File fh, MPI_Offset off, void *b, int n, MPI_Datatype t, MPI_Status *st)
{
    add(C_FILE_READ_AT, n, t);
    return PMPI_File_read_at(fh, off, b, n, t, st);
}
int MPI_File_read_at_all(MPI_File fh, MPI_Offset off, void *b, int n, MPI_Datatype t,
                         MPI_Status *st)
{
    add(C_FILE_READ_AT_ALL, n, t);
    return PMPI_File_read_at_all(fh, off, b, n, t, st);
}
int MPI_File_sync(MPI_File fh)
{
    add(C_FILE_SYNC, 0, MPI_DATATYPE_NULL);
    return PMPI_File_sync(fh);
}
int MPI_File_set_size(MPI_File fh, MPI_Offset size)
{
    add(C_FILE_SET_SIZE, 0, MPI_DATATYPE_NULL);
    return PMPI_File_set_size(fh, size);
}
int MPI_File_get_size(MPI_File fh, MPI_Offset *size)
{
    add(C_FILE_GET_SIZE, 0, MPI_DATATYPE_NULL);
    return PMPI_File_get_size(fh, size);
}
