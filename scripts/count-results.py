#!/usr/bin/env python3
"""The closing count of scripts/run-tests.sh: "N passed, N failed, N skipped".

    count-results.py TESTLOG_JSON EXTRA_FILE MESON_RC

TESTLOG_JSON is meson's build-test/meson-logs/testlog.json; every test's TAP output is in it. A point
"ok N" passes, "not ok N" fails, "ok N # SKIP REASON" is skipped (never passed); a test whose plan is
"1..0 # SKIP REASON" is one skipped test (never failed). A test that printed no TAP counts once, by meson's
result; a test whose points all passed but which failed (a sanitizer report at exit, a crash, a timeout)
counts one failure. EXTRA_FILE has one result a line from the script itself: "ok NAME", "not ok NAME",
"skip NAME: REASON", "optskip NAME: REASON".

Skips are listed with their reasons above the closing line. With CLUSTERBOOT_REQUIRE_ALL=1 a skip is a
failure, except those the user turned off: with CLUSTERBOOT_HEAVY=0 (Kubernetes not built), the tests of
the suite "kubernetes" and the points whose reason names CLUSTERBOOT_HEAVY=0; and "optskip" lines.
Exit status 1 when anything failed.
"""
import json
import os
import re
import sys

OPT_IN_SUITES = {"kubernetes"}

SKIP_POINT = re.compile(r"^ok\s+\d+\b[^#]*#\s*skip\S*\s*(.*)$", re.I)
SKIP_PLAN = re.compile(r"^1\.\.0\s*#\s*skip\S*\s*(.*)$", re.I)
OK_POINT = re.compile(r"^ok\s+\d+\b")
BAD_POINT = re.compile(r"^not ok\s+\d+\b")


def main(argv):
    testlog, extra, meson_rc = argv[1], argv[2], int(argv[3])
    require_all = os.environ.get("CLUSTERBOOT_REQUIRE_ALL") == "1"
    heavy = os.environ.get("CLUSTERBOOT_HEAVY", "1") != "0"
    passed = failed = skipped = 0
    skips = []      # (name, reason, opt_in)

    def add_skip(name, reason, opt_in, count=1):
        """opt_in: None, or what turns the skipped part on."""
        nonlocal failed, skipped
        if require_all and not opt_in:
            failed += count
        else:
            skipped += count
        skips.append((name, reason or "no reason given", opt_in, count))

    with open(testlog) as f:
        for line in f:
            t = json.loads(line)
            name = t.get("name", "?")
            # meson names a test "PROJECT:SUITE / NAME" (some versions also list "suite").
            suites = {s.split(":")[-1] for s in t.get("suite") or []}
            suites.add(name.split(" / ")[0].split(":")[-1])
            opt_in = "opt-out: CLUSTERBOOT_HEAVY=0" if suites & OPT_IN_SUITES and not heavy else None
            out = t.get("stdout") or ""
            plan_skip = SKIP_PLAN.search("\n".join(l.strip() for l in out.splitlines()))
            ok = bad = 0
            point_skips = {}
            for l in out.splitlines():
                l = l.strip()
                m = SKIP_POINT.match(l)
                if m:
                    point_skips[m.group(1).strip()] = point_skips.get(m.group(1).strip(), 0) + 1
                elif OK_POINT.match(l):
                    ok += 1
                elif BAD_POINT.match(l):
                    bad += 1
            n_skip = sum(point_skips.values())
            if ok + bad + n_skip == 0:
                if plan_skip or t["result"] == "SKIP":
                    add_skip(name, plan_skip.group(1).strip() if plan_skip else "", opt_in)
                    continue
                # not a TAP test, or it died before its first line
                ok, bad = (1, 0) if t["result"] == "OK" else (0, 1)
            elif t["result"] not in ("OK", "SKIP") and bad == 0:
                bad = 1  # all points passed but the program failed (a sanitizer report at exit, a crash)
            passed += ok
            failed += bad
            for reason, count in point_skips.items():
                turned_off = not heavy and "CLUSTERBOOT_HEAVY=0" in reason
                add_skip(name, reason, opt_in or ("opt-out: CLUSTERBOOT_HEAVY=0" if turned_off else None), count)

    with open(extra) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("not ok "):
                failed += 1
            elif line.startswith("ok "):
                passed += 1
            elif line.startswith(("skip ", "optskip ")):
                kind, _, rest = line.partition(" ")
                name, _, reason = rest.partition(": ")
                add_skip(name, reason, "opt-out" if kind == "optskip" else None)

    if meson_rc != 0 and failed == 0:
        failed = 1

    for name, reason, opt_in, count in skips:
        points = f" ({count} points)" if count > 1 else ""
        if require_all and not opt_in:
            print(f"not ok - {name} skipped{points}, a failure with CLUSTERBOOT_REQUIRE_ALL=1: {reason}")
        else:
            why = f" [{opt_in}]" if opt_in else ""
            print(f"skipped - {name}{points}: {reason}{why}")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
