#!/usr/bin/python3
"""Run `secbench-db check` and `secbench-db status` on every file of the
bad-input corpus (make_corpus.py): no crash (no signal, no sanitizer report),
no hang, a non-zero exit with a message where the store is broken, and exit 0
where the manifest says everything is sound.

usage: cli_badinput.py SECBENCH_DB CORPUS_DIR
"""
import json
import os
import subprocess
import sys

BROKEN = {"SB_ERR_FORMAT", "SB_ERR_TYPE", "SB_ERR_IO"}


def verdict(entry):
    """'fail' if check must fail, 'pass' if it must pass, 'either'."""
    if "check" in entry:  # what the loads alone cannot tell (e.g. damaged names)
        return entry["check"]
    if "OK" not in entry["open"]:
        return "fail"
    must_fail = False
    must_pass = True
    for exp in entry.get("datasets", {}).values():
        codes = set(exp["load"])
        if codes <= BROKEN:
            must_fail = True
        if codes not in ({"OK"}, {"SB_ERR_NOT_FOUND"}) or exp.get("field_reads"):
            must_pass = False
        # A broken JSON asset is only bytes to a checker that cannot know.
        if any(a.get("json", ["OK"]) != ["OK"] for a in exp.get("assets", {}).values()):
            must_pass = False
    return "fail" if must_fail else ("pass" if must_pass else "either")


def run(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                           errors="replace", stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, "", "timed out"
    return p.returncode, p.stdout, p.stderr


def main():
    db, corpus = sys.argv[1], sys.argv[2]
    with open(os.path.join(corpus, "manifest.json")) as f:
        manifest = json.load(f)
    failures = 0
    counts = {"pass": 0, "fail": 0, "either": 0}
    for entry in manifest["files"]:
        path = os.path.join(corpus, entry["file"])
        want = verdict(entry)
        counts[want] += 1
        problems = []
        for sub in ("check", "status"):
            rc, out, err = run([db, sub, path])
            if rc is None:
                problems.append("%s hangs" % sub)
                continue
            if rc < 0 or rc >= 126 or "Sanitizer" in err or "runtime error" in err:
                problems.append("%s crashed (rc %d): %s" % (sub, rc, err.strip()[-400:]))
                continue
            if sub == "check":
                if want == "fail" and rc == 0:
                    problems.append("check passed a broken store")
                if want == "pass" and rc != 0:
                    problems.append("check refused a sound store: %s" % err.strip()[:300])
                for word in entry.get("check_message", []):
                    if word not in err + out:
                        problems.append("check does not say '%s': %s" % (word, (err + out).strip()[:300]))
            elif "OK" not in entry["open"] and rc == 0:
                problems.append("status succeeded on a file that is no store")
            if rc != 0 and not (err + out).strip():
                problems.append("%s failed (rc %d) without saying why" % (sub, rc))
        status = "ok  " if not problems else "FAIL"
        print("%s %s (check must %s)" % (status, entry["file"], want))
        for p in problems:
            print("     " + p)
        failures += bool(problems)
    print("%d files (%d broken, %d sound, %d either), %d failures" %
          (len(manifest["files"]), counts["fail"], counts["pass"], counts["either"], failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
