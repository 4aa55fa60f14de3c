"""CSV rows in the format of bench/bench_common.c, for the Python baselines."""
import os

HEADER = "workload,ranks,bytes,rep,impl,seconds,MBps,peak_rss_kib\n"


def row(path, workload, ranks, nbytes, rep, impl, seconds, rss=None):
    if not path:
        return
    new = not os.path.exists(path) or os.path.getsize(path) == 0
    mbps = nbytes / seconds / 1e6 if seconds > 0 and nbytes > 0 else 0.0
    with open(path, "a") as f:
        if new:
            f.write(HEADER)
        f.write("%s,%d,%d,%d,%s,%.9f,%.3f,%s\n" % (workload, ranks, nbytes, rep, impl,
                                                    seconds, mbps, "" if rss is None else rss))
