#!/usr/bin/env python3
"""Train and score the peer spam filters (bogofilter, SpamAssassin) on a split.

Usage: peers.py SPLIT_DIR OUT_DIR [--only bogofilter|spamassassin] [--jobs N]
                [--sa-mode api|spamd] [--passes N]

SPLIT_DIR holds train.tsv and test.tsv from split.py. For each peer this
trains a private, freshly created database on train.tsv (never the user's
~/.bogofilter or ~/.spamassassin: HOME points into a temporary folder that is
removed at the end), scores every test message and writes

  OUT_DIR/<peer>.scores  "<label>\\t<score>\\t<path>\\t<1|0>"  (test.tsv order;
                         higher score = spammier; 4th column = the peer's own
                         default decision, 1 = spam)
  OUT_DIR/<peer>.timing  {"messages", "wall_seconds", "cpu_seconds", ...}
                         for the SCORING phase only; cpu = user+sys of every
                         process doing the scoring (and their children).

--passes N: bogofilter scores the test list N times over in one bulk process
(for splits so small that one pass takes milliseconds); the timing counts
every pass, the scores come from the first.

Every message is given to the peers exactly as stored (raw RFC 822 file,
including the mbox "From " envelope line where the corpus has one).

bogofilter: one bulk process (`bogofilter -b`, file names on stdin, -v -T with
a 17-digit terse format), compiled-in defaults (-C; Debian's
/etc/bogofilter.cf is all comments), so spam_cutoff 0.99, ham_cutoff 0.45;
"Unsure" is not spam. Score = spamicity. Trained with -s / -n in bulk mode
(one registration per file).

SpamAssassin: Bayes trained by sa-learn -L on the same split (auto-learn and
auto-expire off), then the full local rule set plus Bayes with local tests
only (-L / local_tests_only: no DNS, URIBL, Razor, Pyzor or DCC).
Score = the total score at full precision; decision = its own is_spam
(score >= required_score 5.0).
  --sa-mode api (default, the best honest throughput): --jobs (default: all
    cores) long-running perl processes using the Mail::SpamAssassin API, as
    amavisd-new or MIMEDefang embed it; rules are compiled and the Bayes DB
    opened (warm-up on training messages) before the timed loop, and each
    process reports the user+sys CPU of its loop.
  --sa-mode spamd: spamd on 127.0.0.1 (free port, its own home and Bayes
    folder, --jobs children) fed by as many concurrent spamc clients; score
    from an added _TESTSSCORES_ header (spamd's summary is rounded to 0.1);
    cpu = spamd master + children (from /proc, after warm-up) + the spamc
    clients. Same scores, ~1.4x the CPU per message here: spamd restores its
    whole configuration after every connection.
"""
import concurrent.futures
import json
import os
import pwd
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

PEERS = ("bogofilter", "spamassassin")
CLK_TCK = os.sysconf("SC_CLK_TCK")
SA_REQUIRED_SCORE = 5.0  # SpamAssassin default required_score


def log(msg):
    sys.stderr.write("peers: %s\n" % msg)
    sys.stderr.flush()


def die(msg):
    sys.stderr.write("peers: error: %s\n" % msg)
    sys.exit(1)


def read_tsv(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                label, p = line.split("\t", 1)
                if label not in ("ham", "spam"):
                    die("%s: bad label %r" % (path, label))
                rows.append((label, p))
    if not rows:
        die("%s is empty" % path)
    return rows


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def write_results(out_dir, peer, test, scores, decisions, timing):
    with open(os.path.join(out_dir, peer + ".scores"), "w",
              encoding="utf-8") as f:
        for (label, path), s, d in zip(test, scores, decisions):
            f.write("%s\t%s\t%s\t%d\n" % (label, s, path, 1 if d else 0))
    with open(os.path.join(out_dir, peer + ".timing"), "w",
              encoding="utf-8") as f:
        json.dump(timing, f, indent=1, sort_keys=True)
        f.write("\n")


# --------------------------------------------------------------- bogofilter

def run_bogofilter(train, test, work, out_dir, env, passes=1):
    exe = shutil.which("bogofilter")
    if not exe:
        die("bogofilter not found (apt-get install bogofilter)")
    db = os.path.join(work, "bogofilter")
    os.makedirs(db)
    base = [exe, "-C", "-d", db]

    t0 = time.monotonic()
    for label, flag in (("spam", "-s"), ("ham", "-n")):
        names = "".join(p + "\n" for lab, p in train if lab == label)
        subprocess.run(base + [flag, "-b"], input=names.encode(), env=env,
                       check=True)
    train_wall = time.monotonic() - t0
    counts = subprocess.run([shutil.which("bogoutil") or "bogoutil",
                             "-w", db, ".MSG_COUNT"], env=env, check=False,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            universal_newlines=True).stdout.split()
    log("bogofilter: trained in %.1fs (.MSG_COUNT spam/ham: %s)"
        % (train_wall, "/".join(counts[-2:]) if len(counts) >= 2 else "?"))

    names = "".join(p + "\n" for _, p in test).encode() * passes
    cpu0 = children_cpu()
    t0 = time.monotonic()
    res = subprocess.run(base + ["-b", "-v", "-T", "--terse-format=%1.1c %.17g"],
                         input=names, stdout=subprocess.PIPE, env=env,
                         check=True)
    wall = time.monotonic() - t0
    cpu = children_cpu() - cpu0

    lines = res.stdout.decode("utf-8", "surrogateescape").splitlines()
    if len(lines) != len(test) * passes:
        die("bogofilter printed %d lines for %d messages" % (len(lines), len(test) * passes))
    lines = lines[:len(test)]
    scores, decisions = [], []
    for (_, path), line in zip(test, lines):
        got_path, cls, score = line.rsplit(" ", 2)
        if got_path != path or cls not in ("S", "H", "U"):
            die("unexpected bogofilter output line: %r" % line)
        scores.append(repr(float(score)))
        decisions.append(cls == "S")
    timing = {"messages": len(test) * passes, "passes": passes,
              "wall_seconds": round(wall, 3),
              "cpu_seconds": round(cpu, 3), "processes": 1,
              "train_wall_seconds": round(train_wall, 3),
              "mode": "bogofilter -b (bulk, file names on stdin)"}
    write_results(out_dir, "bogofilter", test, scores, decisions, timing)
    log("bogofilter: scored %d messages in %.2fs wall, %.2fs CPU (%.0f msg/s/core)"
        % (len(test) * passes, wall, cpu,
           len(test) * passes / cpu if cpu else float("nan")))


# ------------------------------------------------------------- SpamAssassin

def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def proc_tree_cpu(root_pid):
    """user+sys (incl. reaped children) of root_pid and its live descendants."""
    stats = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                data = f.read()
        except OSError:
            continue
        rest = data[data.rindex(")") + 2:].split()
        # rest[0] = state (field 3); ppid = field 4; utime..cstime = 14..17
        stats[int(name)] = (int(rest[1]),
                            sum(int(x) for x in rest[11:15]))
    total, todo, seen = 0, [root_pid], set()
    while todo:
        pid = todo.pop()
        if pid in seen or pid not in stats:
            continue
        seen.add(pid)
        total += stats[pid][1]
        todo.extend(p for p, (pp, _) in stats.items() if pp == pid)
    return total / CLK_TCK, len(seen)


HEADER_RE = re.compile(rb"^([!-9;-~]+):[ \t]*(.*(?:\r?\n[ \t].*)*)", re.M)


def parse_spamc_headers(raw):
    head = raw.split(b"\n\n", 1)[0].replace(b"\r\n", b"\n")
    headers = {}
    for m in HEADER_RE.finditer(head):
        headers.setdefault(m.group(1).lower().decode("ascii", "replace"),
                           re.sub(rb"\s+", b"", m.group(2))
                           .decode("ascii", "replace"))
    status = headers.get("x-spam-status")
    tss = headers.get("x-spam-tss")
    if status is None or tss is None:
        raise ValueError("no X-Spam-Status / X-Spam-Tss header in spamd reply")
    is_spam = status.startswith("Yes,")
    m = re.search(r"score=(-?[0-9.]+)", status)
    rounded = float(m.group(1)) if m else None
    total = 0.0
    tests = []
    if tss != "none":
        for item in tss.split(","):
            name, _, val = item.partition("=")
            total += float(val)
            tests.append(name)
    total = round(total, 4)
    # spamd prints the score with one decimal, and a ham just under the
    # threshold (e.g. 4.96) as threshold - 0.1 (4.9): allow for both.
    if rounded is not None and abs(total - rounded) > 0.1 + 1e-6:
        raise ValueError("sum of rule scores %.4f != spamd score %.1f (%s)"
                         % (total, rounded, tss))
    if is_spam != (total >= SA_REQUIRED_SCORE - 1e-9):
        raise ValueError("score %.4f but X-Spam-Status %s" % (total, status))
    return total, is_spam, tests


def sa_config_lines(bayes_path):
    return [
        "bayes_path %s" % bayes_path,
        "use_bayes 1",
        "bayes_auto_learn 0",
        "bayes_auto_expire 0",
        "bayes_learn_to_journal 0",
        "lock_method flock",
        # -L already turns every network test off; belt and braces:
        "dns_available no",
        "skip_rbl_checks 1",
        "use_razor2 0",
        "use_pyzor 0",
        # Scoring only appends token access times to the journal; merge it
        # (a DB rewrite under lock) by cron, not in the middle of a scan.
        "bayes_journal_max_size 0",
    ]


# Embedded SpamAssassin: one long-running Perl process per core using the
# Mail::SpamAssassin API (as amavisd-new/MIMEDefang do, and as
# `spamassassin --mbox` does without rewriting the message). Rules are
# compiled and the Bayes DB opened before the timed loop; it reports its own
# user+sys CPU for the loop.
SA_DRIVER = r"""
use strict;
use warnings;
use Mail::SpamAssassin;
use Time::HiRes ();

my ($cf_file, $warm_file, $list_file) = @ARGV;
sub slurp {
  my ($p) = @_;
  open(my $fh, '<:raw', $p) or die "cannot read $p: $!\n";
  local $/;
  my $d = <$fh>;
  close($fh);
  return $d;
}
sub paths { return grep { length } split(/\n/, slurp($_[0])); }
sub cpu { my @t = times(); return $t[0] + $t[1] + $t[2] + $t[3]; }

my $sa = Mail::SpamAssassin->new({
  local_tests_only     => 1,
  dont_copy_prefs      => 1,
  userprefs_filename   => "$ENV{HOME}/no_user_prefs",
  home_dir_for_helpers => $ENV{HOME},
  post_config_text     => slurp($cf_file),
  require_rules        => 1,
});
$sa->compile_now(0, 1);

sub check_file {
  my ($tag, $path) = @_;
  my $mail = $sa->parse(slurp($path));
  my $status = $sa->check($mail);
  printf("%s\t%s\t%.17g\t%d\t%s\t%s\n", $tag, $path, $status->get_score(),
         $status->is_spam() ? 1 : 0, $status->get_tag('BAYES') // '',
         $status->get_names_of_tests_hit());
  $status->finish();
  $mail->finish();
}

$| = 0;
check_file('warm', $_) for paths($warm_file);
my @todo = paths($list_file);
my ($c0, $w0) = (cpu(), Time::HiRes::time());
check_file('msg', $_) for @todo;
my ($c1, $w1) = (cpu(), Time::HiRes::time());
printf("timing\t%.3f\t%.6f\t%.6f\n", $c1 - $c0, $w0, $w1);
"""

NETWORK_RULE_PREFIXES = ("RCVD_IN_", "URIBL_", "RAZOR2_", "PYZOR_", "DCC_",
                         "SURBL_", "DKIMWL_", "HASHBL_")


def check_warmup(tests_lists, where):
    for tests in tests_lists:
        if not any(t.startswith("BAYES_") for t in tests):
            die("SpamAssassin Bayes is not active (no BAYES_* rule on a "
                "warm-up message); see %s" % where)
        net = [t for t in tests if t.startswith(NETWORK_RULE_PREFIXES)]
        if net:
            die("network rules fired despite -L: %s" % net)


def score_sa_api(test, warm, sa, env, cf_lines, jobs):
    driver = os.path.join(sa, "driver.pl")
    with open(driver, "w", encoding="utf-8") as f:
        f.write(SA_DRIVER)
    cf_file = os.path.join(sa, "bench.cf")
    with open(cf_file, "w", encoding="utf-8") as f:
        f.write("\n".join(cf_lines) + "\n")
    warm_file = os.path.join(sa, "warm.list")
    with open(warm_file, "w", encoding="utf-8") as f:
        f.writelines(p + "\n" for p in warm)

    procs = []
    cpu0 = children_cpu()
    t_start = time.monotonic()
    for i in range(jobs):
        share = os.path.join(sa, "share%d.list" % i)
        with open(share, "w", encoding="utf-8") as f:
            f.writelines(p + "\n" for _, p in test[i::jobs])
        out = open(os.path.join(sa, "share%d.out" % i), "w+b")
        err = open(os.path.join(sa, "share%d.err" % i), "w+b")
        procs.append((subprocess.Popen(["perl", driver, cf_file, warm_file, share],
                                       env=env, stdout=out, stderr=err), out, err))
    results, warm_tests = {}, []
    cpu, w_starts, w_ends = 0.0, [], []
    for i, (proc, out, err) in enumerate(procs):
        rc = proc.wait()
        out.seek(0)
        err.seek(0)
        if rc != 0:
            die("SpamAssassin driver %d exited %d: %s" % (
                i, rc, err.read().decode("utf-8", "replace")[-2000:]))
        for line in out.read().decode("utf-8", "surrogateescape").splitlines():
            cols = line.split("\t")
            if cols[0] == "timing":
                cpu += float(cols[1])
                w_starts.append(float(cols[2]))
                w_ends.append(float(cols[3]))
                continue
            tag, path, score, is_spam, _bayes, tests = cols
            tests = tests.split(",") if tests else []
            if tag == "warm":
                warm_tests.append(tests)
            else:
                results[path] = (float(score), is_spam == "1", tests)
        out.close()
        err.close()
    total_wall = time.monotonic() - t_start
    total_cpu = children_cpu() - cpu0
    check_warmup(warm_tests, os.path.join(sa, "share0.err"))
    if len(w_starts) != jobs:
        die("SpamAssassin driver printed no timing line")
    missing = [p for _, p in test if p not in results]
    if missing:
        die("SpamAssassin driver did not score %d messages, e.g. %s"
            % (len(missing), missing[0]))
    extra = {"cpu_seconds_including_startup": round(total_cpu, 3),
             "wall_seconds_including_startup": round(total_wall, 3),
             "mode": "Mail::SpamAssassin API, %d long-running perl process(es), "
                     "rules compiled and Bayes opened before timing" % jobs}
    wall = max(w_ends) - min(w_starts)
    return [results[p] for _, p in test], wall, cpu, extra


def score_sa_spamd(test, warm, sa, work, env, cf_lines, jobs):
    for tool in ("spamd", "spamc"):
        if not shutil.which(tool):
            die("%s not found (apt-get install spamd spamc)" % tool)
    home = env["HOME"]
    # Full-precision total: the scores of all rules hit (spamd's own summary
    # is rounded to 0.1).
    cf = ["--cf=" + line for line in
          cf_lines + ["add_header all Tss _TESTSSCORES(,)_"]]
    # spamd as root would setuid each child to 'nobody', which must then own
    # the Bayes folder; as any other user it simply runs as that user.
    user_args = []
    if os.geteuid() == 0:
        pw = pwd.getpwnam("nobody")
        os.chmod(work, 0o711)
        for d, dirs, files in os.walk(sa):
            for n in [d] + [os.path.join(d, x) for x in files]:
                os.chown(n, pw.pw_uid, pw.pw_gid)
        user_args = ["-u", "nobody"]

    port = free_port()
    spamd_log = os.path.join(sa, "spamd.log")
    spamd_cmd = (["spamd", "-L", "-x", "-H", home, "-i", "127.0.0.1:%d" % port,
                  "-A", "127.0.0.1", "-m", str(jobs),
                  "--min-children=%d" % jobs, "--min-spare=1",
                  "--max-spare=%d" % jobs, "--max-conn-per-child=1000000",
                  "-s", spamd_log] + user_args + cf)
    spamc = ["spamc", "-d", "127.0.0.1", "-p", str(port), "-x",
             "-s", "67108864", "-t", "600"]
    with open(os.path.join(sa, "spamd.out"), "w") as spamd_out:
        spamd = subprocess.Popen(spamd_cmd, env=env, stdout=spamd_out,
                                 stderr=subprocess.STDOUT)
    try:
        t0 = time.monotonic()
        while True:
            if spamd.poll() is not None:
                die("spamd exited with %s; see %s" % (spamd.returncode, spamd_log))
            if subprocess.run(spamc + ["-K"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode == 0:
                break
            if time.monotonic() - t0 > 180:
                die("spamd did not answer within 180s; see %s" % spamd_log)
            time.sleep(0.5)
        log("spamassassin: spamd up on 127.0.0.1:%d after %.1fs, %d children"
            % (port, time.monotonic() - t0, jobs))

        def check(path):
            with open(path, "rb") as f:
                res = subprocess.run(spamc + ["--headers"], stdin=f,
                                     stdout=subprocess.PIPE, env=env)
            if res.returncode != 0:
                raise RuntimeError("spamc exit %d on %s" % (res.returncode, path))
            try:
                return parse_spamc_headers(res.stdout)
            except ValueError as e:
                raise RuntimeError("%s: %s" % (path, e))

        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            # Warm-up (training messages, not in the test set): every child
            # opens the Bayes DB.
            check_warmup([t for _, _, t in pool.map(check, warm)], spamd_log)
            spamd_cpu0, _ = proc_tree_cpu(spamd.pid)
            cpu0 = children_cpu()
            t0 = time.monotonic()
            results = list(pool.map(check, [p for _, p in test]))
            wall = time.monotonic() - t0
            spamc_cpu = children_cpu() - cpu0
            spamd_cpu1, _ = proc_tree_cpu(spamd.pid)
        spamd_cpu = spamd_cpu1 - spamd_cpu0
    finally:
        if spamd.poll() is None:
            spamd.send_signal(signal.SIGTERM)
            try:
                spamd.wait(timeout=30)
            except subprocess.TimeoutExpired:
                spamd.kill()
                spamd.wait()
    extra = {"spamd_cpu_seconds": round(spamd_cpu, 3),
             "spamc_cpu_seconds": round(spamc_cpu, 3),
             "mode": "spamd -L (%d children) + %d concurrent spamc --headers"
                     % (jobs, jobs)}
    return results, wall, spamd_cpu + spamc_cpu, extra


def run_spamassassin(train, test, work, out_dir, env, jobs, mode):
    for tool in ("sa-learn", "perl"):
        if not shutil.which(tool):
            die("%s not found (apt-get install spamassassin)" % tool)
    sa = os.path.join(work, "spamassassin")
    home = os.path.join(sa, "home")
    bayes_dir = os.path.join(sa, "bayes")
    os.makedirs(home)
    os.makedirs(bayes_dir)
    env = dict(env, HOME=home)
    cf_lines = sa_config_lines(os.path.join(bayes_dir, "bayes"))
    cf = ["--cf=" + line for line in cf_lines]

    t0 = time.monotonic()
    for label in ("spam", "ham"):
        lst = os.path.join(sa, label + ".list")
        with open(lst, "w", encoding="utf-8") as f:
            f.writelines(p + "\n" for lab, p in train if lab == label)
        res = subprocess.run(["sa-learn", "-L"] + cf +
                             ["--" + label, "-f", lst], env=env, check=True,
                             stdout=subprocess.PIPE, universal_newlines=True)
        log("sa-learn --%s: %s" % (label, res.stdout.strip()))
    train_wall = time.monotonic() - t0
    log("spamassassin: Bayes trained in %.1fs" % train_wall)

    # A few training messages (never test ones) to warm up every process and
    # to check that Bayes is on and nothing went to the network.
    warm = [p for _, p in train[:: max(1, len(train) // (3 * jobs))]]
    if mode == "api":
        results, wall, cpu, extra = score_sa_api(test, warm, sa, env, cf_lines, jobs)
    else:
        results, wall, cpu, extra = score_sa_spamd(test, warm, sa, work, env,
                                                   cf_lines, jobs)

    scores = ["%.3f" % s for s, _, _ in results]
    decisions = [d for _, d, _ in results]
    bayes_hits = sum(1 for _, _, t in results if any(x.startswith("BAYES_") for x in t))
    net = sorted(set(x for _, _, t in results for x in t
                     if x.startswith(NETWORK_RULE_PREFIXES)))
    if net:
        die("network rules fired despite -L: %s" % net)
    timing = {"messages": len(test), "wall_seconds": round(wall, 3),
              "cpu_seconds": round(cpu, 3), "processes": jobs,
              "train_wall_seconds": round(train_wall, 3),
              "bayes_rule_hits": bayes_hits}
    timing.update(extra)
    write_results(out_dir, "spamassassin", test, scores, decisions, timing)
    log("spamassassin (%s): scored %d messages in %.1fs wall, %.1fs CPU "
        "(%.1f msg/s/core); a BAYES_* rule on %d"
        % (mode, len(test), wall, cpu, len(test) / cpu if cpu else float("nan"),
           bayes_hits))


def main(argv):
    args = argv[1:]
    only = None
    sa_mode = "api"
    jobs = os.cpu_count() or 1
    passes = 1
    pos = []
    while args:
        a = args.pop(0)
        if a == "--only" and args:
            only = args.pop(0)
            if only not in PEERS:
                die("--only takes one of %s" % ", ".join(PEERS))
        elif a == "--jobs" and args:
            jobs = max(1, int(args.pop(0)))
        elif a == "--passes" and args:
            passes = max(1, int(args.pop(0)))
        elif a == "--sa-mode" and args:
            sa_mode = args.pop(0)
            if sa_mode not in ("api", "spamd"):
                die("--sa-mode takes api or spamd")
        elif a.startswith("-"):
            sys.stderr.write(__doc__)
            return 2
        else:
            pos.append(a)
    if len(pos) != 2:
        sys.stderr.write(__doc__)
        return 2
    split_dir, out_dir = (os.path.abspath(p) for p in pos)
    train = read_tsv(os.path.join(split_dir, "train.tsv"))
    test = read_tsv(os.path.join(split_dir, "test.tsv"))
    os.makedirs(out_dir, exist_ok=True)

    # Turn SIGTERM/SIGHUP into SystemExit so spamd is stopped and the
    # temporary folder removed (SIGINT already raises KeyboardInterrupt).
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))
    work = tempfile.mkdtemp(prefix="triage-peers.")
    env = dict(os.environ, HOME=os.path.join(work, "home"), LC_ALL="C")
    env.pop("BOGOFILTER_DIR", None)
    os.makedirs(env["HOME"])
    try:
        for peer in PEERS:
            if only and peer != only:
                continue
            t0 = time.monotonic()
            if peer == "bogofilter":
                run_bogofilter(train, test, work, out_dir, env, passes)
            else:
                run_spamassassin(train, test, work, out_dir, env, jobs, sa_mode)
            log("%s: phase total %.1fs" % (peer, time.monotonic() - t0))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
