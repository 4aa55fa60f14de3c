/* mpi_where: where did the ranks land, and did their messages cross a network?
 * A check for the multi-node test cluster (scripts/slurm-local.sh with
 * SB_SLURM_NODES=3), public MPI only.
 *
 *   mpi_where [--hosts N] [--shared K] [--bytes B] [--net]
 *
 * Each rank says "mpi_where: rank R of P past MPI_Init" on stderr (so that a
 * launch that died inside MPI_Init can be told apart), then every rank reports
 * its hostname and the size of its MPI_COMM_TYPE_SHARED
 * communicator (the ranks MPI may reach through shared memory). Then each rank
 * sends B bytes (default 8 MiB) to the next rank (ring) and reads, before and
 * after, the bytes its network namespace sent on interfaces other than lo
 * (/proc/net/dev is per network namespace). Rank 0 prints one line a rank and
 * a summary:
 *   rank R host H shared S next NH sent_bytes D
 *   hosts N ranks P max_shared S btl B
 * where B is Open MPI's "btl" control variable read through MPI_T (or "-" when
 * the MPI has none).
 * If the first collective fails, a rank says "mpi_where: rank R on H cannot reach
 * the other ranks: ERROR" and the job is aborted (exit 3).
 * Checks (exit 1 when one fails, each with a line "mpi_where: FAIL ..."):
 *   --hosts N    exactly N distinct hostnames;
 *   --shared K   every shared communicator has exactly K ranks, and holds only
 *                ranks of the same host;
 *   --net        every rank whose next rank is on another host sent at least
 *                B bytes over a non-loopback interface (so not through shared
 *                memory, nor through loopback). */
#define _POSIX_C_SOURCE 200809L
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOST_LEN 64

/* Bytes sent by this network namespace on every interface but lo; -1 if
 * /proc/net/dev cannot be read. */
static long long sent_bytes(void)
{
    FILE *f = fopen("/proc/net/dev", "r");
    if (!f)
        return -1;
    char line[512];
    long long total = 0;
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue; /* the two header lines */
        *colon = '\0';
        const char *name = line;
        while (*name == ' ')
            name++;
        if (strcmp(name, "lo") == 0)
            continue;
        unsigned long long v[16];
        int n = sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
                       &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8]);
        if (n == 9)
            total += (long long)v[8]; /* transmit bytes: the 9th number */
    }
    fclose(f);
    return total;
}

/* Open MPI's "btl" MCA parameter through the MPI tool interface. */
static void btl_setting(char *out, size_t len)
{
    snprintf(out, len, "-");
    int provided, index, count;
    if (MPI_T_init_thread(MPI_THREAD_SINGLE, &provided) != MPI_SUCCESS)
        return;
    if (MPI_T_cvar_get_index("btl", &index) == MPI_SUCCESS) {
        MPI_T_cvar_handle h;
        if (MPI_T_cvar_handle_alloc(index, NULL, &h, &count) == MPI_SUCCESS) {
            char value[256] = "";
            if (MPI_T_cvar_read(h, value) == MPI_SUCCESS)
                snprintf(out, len, "%s", value[0] ? value : "(all)");
            MPI_T_cvar_handle_free(&h);
        }
    }
    MPI_T_finalize();
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size, want_hosts = 0, want_shared = 0, check_net = 0;
    long long bytes = 8 << 20;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    fprintf(stderr, "mpi_where: rank %d of %d past MPI_Init\n", rank, size);
    fflush(stderr);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--hosts") == 0 && i + 1 < argc)
            want_hosts = atoi(argv[++i]);
        else if (strcmp(argv[i], "--shared") == 0 && i + 1 < argc)
            want_shared = atoi(argv[++i]);
        else if (strcmp(argv[i], "--bytes") == 0 && i + 1 < argc)
            bytes = atoll(argv[++i]);
        else if (strcmp(argv[i], "--net") == 0)
            check_net = 1;
        else {
            if (rank == 0)
                fprintf(stderr, "usage: mpi_where [--hosts N] [--shared K] [--bytes B] [--net]\n");
            MPI_Finalize();
            return 2;
        }
    }

    char host[HOST_LEN] = "";
    gethostname(host, sizeof host - 1);
    char *hosts = malloc((size_t)size * HOST_LEN);
    /* The first communication says whether the ranks can reach each other at all
     * (with OMPI_MCA_btl=self,vader, ranks on two hosts cannot). */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    int rc = MPI_Allgather(host, HOST_LEN, MPI_CHAR, hosts, HOST_LEN, MPI_CHAR, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) {
        char msg[MPI_MAX_ERROR_STRING];
        int len = 0;
        MPI_Error_string(rc, msg, &len);
        printf("mpi_where: rank %d on %s cannot reach the other ranks: %s\n", rank, host, msg);
        fflush(stdout);
        MPI_Abort(MPI_COMM_WORLD, 3);
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);

    MPI_Comm shared;
    int shared_size, shared_same_host = 1;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &shared);
    MPI_Comm_size(shared, &shared_size);
    {
        /* Every member of my shared communicator is on my host. */
        char *mates = malloc((size_t)shared_size * HOST_LEN);
        MPI_Allgather(host, HOST_LEN, MPI_CHAR, mates, HOST_LEN, MPI_CHAR, shared);
        for (int i = 0; i < shared_size; i++)
            if (strcmp(mates + (size_t)i * HOST_LEN, host) != 0)
                shared_same_host = 0;
        free(mates);
    }
    MPI_Comm_free(&shared);

    /* The ring: rank r sends to r+1 and receives from r-1, one message each. */
    int next = (rank + 1) % size, prev = (rank + size - 1) % size;
    char *out = malloc((size_t)bytes), *in = malloc((size_t)bytes);
    memset(out, rank & 0xff, (size_t)bytes);
    MPI_Barrier(MPI_COMM_WORLD);
    long long before = sent_bytes();
    MPI_Sendrecv(out, (int)bytes, MPI_CHAR, next, 7, in, (int)bytes, MPI_CHAR, prev, 7,
                 MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    /* The message is complete on the receiver once everybody passed this. */
    MPI_Barrier(MPI_COMM_WORLD);
    long long after = sent_bytes();
    int payload_ok = in[0] == (char)(prev & 0xff) && in[bytes - 1] == (char)(prev & 0xff);
    long long sent = before < 0 || after < 0 ? -1 : after - before;

    long long *sents = malloc((size_t)size * sizeof *sents);
    int *shareds = malloc((size_t)size * sizeof *shareds);
    int flags[2] = {shared_same_host, payload_ok}, all_flags[2];
    MPI_Gather(&sent, 1, MPI_LONG_LONG, sents, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
    MPI_Gather(&shared_size, 1, MPI_INT, shareds, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Reduce(flags, all_flags, 2, MPI_INT, MPI_MIN, 0, MPI_COMM_WORLD);
    char btl[256];
    btl_setting(btl, sizeof btl);

    int failures = 0;
    if (rank == 0) {
        int distinct = 0, max_shared = 0;
        for (int r = 0; r < size; r++) {
            const char *h = hosts + (size_t)r * HOST_LEN;
            int seen = 0;
            for (int q = 0; q < r && !seen; q++)
                seen = strcmp(hosts + (size_t)q * HOST_LEN, h) == 0;
            distinct += !seen;
            if (shareds[r] > max_shared)
                max_shared = shareds[r];
            const char *nh = hosts + (size_t)((r + 1) % size) * HOST_LEN;
            printf("rank %d host %s shared %d next %s sent_bytes %lld\n", r, h, shareds[r], nh,
                   sents[r]);
            if (want_shared && shareds[r] != want_shared) {
                printf("mpi_where: FAIL rank %d: shared communicator of %d ranks, expected %d\n",
                       r, shareds[r], want_shared);
                failures++;
            }
            if (check_net && strcmp(nh, h) != 0 && sents[r] < bytes) {
                printf("mpi_where: FAIL rank %d on %s sent %lld bytes on its network "
                       "interfaces to reach %s, less than the %lld-byte message\n",
                       r, h, sents[r], nh, bytes);
                failures++;
            }
        }
        printf("hosts %d ranks %d max_shared %d btl %s\n", distinct, size, max_shared, btl);
        if (want_hosts && distinct != want_hosts) {
            printf("mpi_where: FAIL %d distinct hosts, expected %d\n", distinct, want_hosts);
            failures++;
        }
        if (!all_flags[0]) {
            printf("mpi_where: FAIL a shared-memory communicator spans several hosts\n");
            failures++;
        }
        if (!all_flags[1]) {
            printf("mpi_where: FAIL a ring message arrived with the wrong content\n");
            failures++;
        }
        fflush(stdout);
    }
    MPI_Bcast(&failures, 1, MPI_INT, 0, MPI_COMM_WORLD);
    free(out);
    free(in);
    free(sents);
    free(shareds);
    free(hosts);
    MPI_Finalize();
    return failures ? 1 : 0;
}
