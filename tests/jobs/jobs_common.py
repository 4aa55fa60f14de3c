"""Helpers shared by the job tests: launching the programs under the MPI
launcher CMake found, reading stores with h5py, a tiny AES-128 that is
independent of the C one."""
import argparse
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np


class Jobs:
    def __init__(self, args):
        self.mpiexec = args.mpiexec
        self.np_flag = args.np_flag
        self.extra = shlex.split(args.mpi_extra or "")
        self.acquire = args.acquire
        self.preprocess = args.preprocess
        self.db = args.db
        self.workdir = args.workdir
        shutil.rmtree(self.workdir, ignore_errors=True)
        os.makedirs(self.workdir)
        # Open MPI's session directory of our own (short: it holds Unix
        # sockets): other jobs cleaning theirs under /tmp at the same time
        # made mpiexec fail at start-up. Every child inherits it.
        import atexit
        import tempfile
        session = tempfile.mkdtemp(prefix="sbjobs-")
        os.environ["OMPI_MCA_orte_tmpdir_base"] = session
        atexit.register(shutil.rmtree, session, True)

    def path(self, name):
        return os.path.join(self.workdir, name)

    def command(self, nranks, argv):
        """nranks 0 means a plain process, without the launcher."""
        if nranks == 0:
            return list(argv)
        return [self.mpiexec, self.np_flag, str(nranks)] + self.extra + list(argv)

    def run(self, nranks, argv, expect=0, timeout=240, **kw):
        cmd = self.command(nranks, argv)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
        if expect is not None and (p.returncode == 0) != (expect == 0):
            fail("%s exited %d, expected %s\nstdout:\n%s\nstderr:\n%s" %
                 (shlex.join(cmd), p.returncode, "0" if expect == 0 else "non-zero",
                  p.stdout, p.stderr))
        return p


def parse_args(modes):
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=modes)
    ap.add_argument("--mpiexec", required=True)
    ap.add_argument("--np-flag", default="-n")
    ap.add_argument("--mpi-extra", default="")
    ap.add_argument("--acquire", required=True)
    ap.add_argument("--preprocess")
    ap.add_argument("--db")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--ranks", type=int, default=2)
    return ap.parse_args()


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def error_lines(stderr):
    return [l for l in stderr.splitlines() if ": error:" in l]


def expect_one_error(p, pattern, code=None, what=""):
    """One error line matching pattern (and the exit status, when given)."""
    lines = error_lines(p.stderr)
    check(len(lines) == 1 and re.search(pattern, lines[0]),
          "%s: want one error line matching %r, got %r" % (what, pattern, p.stderr))
    if code is not None:
        check(p.returncode == code, "%s: exit %d, want %d" % (what, p.returncode, code))


def incomplete(path, name):
    with h5py.File(path, "r") as f:
        return bool(f[name].attrs.get("_sb_incomplete", False))


def sha(path):
    import hashlib
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def session_members(sid):
    """(pid, state) of the processes of a session."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:
            out.append((int(pid), fields[0]))
    return out


def kill_session(sid):
    """SIGKILL the launcher and every rank: Open MPI puts each rank in its own
    process group, but they stay in the launcher's session. Returns once none
    of them runs any more (zombies aside), so the store is free."""
    for pid, _ in session_members(sid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.time() + 30
    while any(state != "Z" for _, state in session_members(sid)):
        check(time.time() < deadline, "the killed ranks do not die")
        time.sleep(0.05)


def committed_lines(stdout):
    return [int(m.group(1)) for m in re.finditer(r"^committed (\d+)$", stdout, re.M)]


def read_dataset(path, name):
    """Fields (rows [0, size)), size, capacity, assets of a secbench dataset."""
    with h5py.File(path, "r") as f:
        g = f[name]
        size = int(g.attrs["_sb_size"])
        cap = int(g.attrs["_sb_capacity"])
        fields, assets = {}, {}
        for k, v in g.items():
            if not isinstance(v, h5py.Dataset):
                continue
            if "_sb_is_asset" in v.attrs:
                assets[k] = v[()]
            else:
                fields[k] = v[:size]
        return fields, size, cap, assets


def json_asset(assets, name):
    import json
    return json.loads(bytes(assets[name]).decode("utf-8"))


# A plain AES-128 (FIPS-197), written apart from the C one so that a bug there
# cannot hide itself.
def _sbox():
    def mul(a, b):
        r = 0
        while b:
            if b & 1:
                r ^= a
            a = ((a << 1) ^ (0x11B if a & 0x80 else 0)) & 0xFF
            b >>= 1
        return r
    inv = [0] * 256
    for a in range(1, 256):
        for b in range(1, 256):
            if mul(a, b) == 1:
                inv[a] = b
                break
    box = []
    for a in range(256):
        x = inv[a]
        s = x
        for k in range(1, 5):
            s ^= ((x << k) | (x >> (8 - k))) & 0xFF
        box.append(s ^ 0x63)
    return box, mul


SBOX, _MUL = _sbox()


def aes128_encrypt(key, block):
    """FIPS-197 with the state as 16 bytes, byte r + 4c = row r, column c."""
    w = [list(key[4 * i:4 * i + 4]) for i in range(4)]
    rcon = 1
    for i in range(4, 44):
        t = list(w[i - 1])
        if i % 4 == 0:
            t = [SBOX[t[1]] ^ rcon, SBOX[t[2]], SBOX[t[3]], SBOX[t[0]]]
            rcon = _MUL(rcon, 2)
        w.append([w[i - 4][j] ^ t[j] for j in range(4)])
    rk = [sum(w[4 * r:4 * r + 4], []) for r in range(11)]
    s = [b ^ k for b, k in zip(block, rk[0])]
    for rnd in range(1, 11):
        s = [SBOX[s[r + 4 * ((c + r) % 4)]] for c in range(4) for r in range(4)]
        if rnd < 10:
            m = []
            for c in range(4):
                a = s[4 * c:4 * c + 4]
                m += [_MUL(a[0], 2) ^ _MUL(a[1], 3) ^ a[2] ^ a[3],
                      a[0] ^ _MUL(a[1], 2) ^ _MUL(a[2], 3) ^ a[3],
                      a[0] ^ a[1] ^ _MUL(a[2], 2) ^ _MUL(a[3], 3),
                      _MUL(a[0], 3) ^ a[1] ^ a[2] ^ _MUL(a[3], 2)]
            s = m
        s = [b ^ k for b, k in zip(s, rk[rnd])]
    return bytes(s)


def _self_test():
    ct = aes128_encrypt(bytes.fromhex("000102030405060708090a0b0c0d0e0f"),
                        bytes.fromhex("00112233445566778899aabbccddeeff"))
    check(ct.hex() == "69c4e0d86a7b0430d8cdb78070b4c55a",
          "the test's own AES fails FIPS-197 C.1: " + ct.hex())


_self_test()
