#!/usr/bin/env python3
"""Summarise bench/triage scores files.

Usage: report.py [--markdown] PEER.scores [PEER.scores ...]

Each PEER.scores has lines "<ham|spam>\\t<score>\\t<path>[\\t<1|0>]" where a
higher score is spammier and the optional 4th column is the peer's own
decision at its default threshold (1 = classified spam). The peer name is the
file name without ".scores"; PEER.timing next to it holds JSON
{"messages": N, "wall_seconds": W, "cpu_seconds": C} for the scoring phase.

Metrics, per peer:
  recall      spam flagged / spam, at the peer's default decision
  FP rate     ham flagged / ham, at the same decision
  F1          2TP / (2TP + FP + FN), spam = positive class
  R@0.1%FP    spam recall at the smallest threshold t (over observed scores)
              with #ham(score >= t) <= 0.001 * #ham; every message with
              score >= t counts as flagged, so ties with a ham count against
              the peer (conservative)
  msg/s/core  messages / cpu_seconds of the scoring phase
  ratios      F1 and msg/s/core divided by bogofilter's (if present)

Default decision when the 4th column is absent: score >= threshold with
bogofilter 0.99 (its spam_cutoff; "Unsure" counts as ham), spamassassin 5.0
(required_score), anything else 0.5.
"""
import json
import math
import os
import sys

DEFAULT_THRESHOLDS = {"bogofilter": 0.99, "spamassassin": 5.0}
# Extra reference point printed under the table (not in it): bogofilter
# two-state at spamicity >= 0.5, i.e. "Unsure" above 0.5 counted as spam.
ALT_THRESHOLDS = {"bogofilter": 0.5}
FALLBACK_THRESHOLD = 0.5
MAX_FP_RATE = 0.001
BASELINE = "bogofilter"


def die(msg):
    sys.stderr.write("report.py: error: %s\n" % msg)
    sys.exit(1)


def load_scores(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            cols = line.split("\t")
            if len(cols) < 3 or cols[0] not in ("ham", "spam"):
                die("%s:%d: expected '<ham|spam>\\t<score>\\t<path>[\\t<1|0>]'"
                    % (path, n))
            try:
                score = float(cols[1])
            except ValueError:
                die("%s:%d: bad score %r" % (path, n, cols[1]))
            if math.isnan(score):
                die("%s:%d: score is NaN" % (path, n))
            decision = None
            if len(cols) >= 4 and cols[3] != "":
                if cols[3] not in ("0", "1"):
                    die("%s:%d: 4th column must be 1 or 0" % (path, n))
                decision = cols[3] == "1"
            rows.append((cols[0] == "spam", score, decision))
    if not rows:
        die("%s: no scores" % path)
    return rows


def recall_at_fp(rows, max_fp_rate):
    """Spam recall at the smallest threshold t with FP(t)/ham <= max_fp_rate.

    FP(t) = #ham with score >= t. Returns (recall, threshold, fp)."""
    n_ham = sum(1 for is_spam, _, _ in rows if not is_spam)
    n_spam = len(rows) - n_ham
    allowed = math.floor(max_fp_rate * n_ham + 1e-9)
    # Walk distinct scores from the top; flag everything >= t.
    by_score = {}
    for is_spam, score, _ in rows:
        h, s = by_score.get(score, (0, 0))
        by_score[score] = (h + (0 if is_spam else 1), s + (1 if is_spam else 0))
    fp = tp = 0
    best = (0.0, math.inf, 0)
    for score in sorted(by_score, reverse=True):
        h, s = by_score[score]
        if fp + h > allowed:
            break
        fp += h
        tp += s
        best = (tp / n_spam if n_spam else 0.0, score, fp)
    return best


def at_threshold(rows, thr):
    tp = sum(1 for s, x, _ in rows if s and x >= thr)
    fp = sum(1 for s, x, _ in rows if not s and x >= thr)
    n_spam = sum(1 for s, _, _ in rows if s)
    n_ham = len(rows) - n_spam
    fn = n_spam - tp
    return (tp / n_spam if n_spam else float("nan"),
            fp / n_ham if n_ham else float("nan"),
            2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan"))


def metrics(name, rows, timing):
    thr = DEFAULT_THRESHOLDS.get(name, FALLBACK_THRESHOLD)
    tp = fp = fn = tn = 0
    own = all(d is not None for _, _, d in rows)
    for is_spam, score, decision in rows:
        flagged = decision if own else score >= thr
        if is_spam:
            tp += flagged
            fn += not flagged
        else:
            fp += flagged
            tn += not flagged
    n_spam, n_ham = tp + fn, fp + tn
    r01, t01, fp01 = recall_at_fp(rows, MAX_FP_RATE)
    m = {
        "peer": name,
        "ham": n_ham,
        "spam": n_spam,
        "tp": tp,
        "fp": fp,
        "recall": tp / n_spam if n_spam else float("nan"),
        "fp_rate": fp / n_ham if n_ham else float("nan"),
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan"),
        "decision": "own" if own else "score>=%g" % thr,
        "r01": r01,
        "t01": t01,
        "fp01": fp01,
        "alt": (ALT_THRESHOLDS[name], at_threshold(rows, ALT_THRESHOLDS[name]))
        if name in ALT_THRESHOLDS else None,
        "mps_core": None,
        "mps_wall": None,
        "cpu": None,
        "wall": None,
    }
    if timing:
        msgs = timing.get("messages", len(rows))
        cpu = timing.get("cpu_seconds")
        wall = timing.get("wall_seconds")
        if msgs != len(rows) * timing.get("passes", 1):
            sys.stderr.write("report.py: warning: %s.timing says %s messages, "
                             "scores have %d\n" % (name, msgs, len(rows)))
        if cpu:
            m["mps_core"] = msgs / cpu
        if wall:
            m["mps_wall"] = msgs / wall
        m["cpu"], m["wall"] = cpu, wall
    return m


def fmt(x, spec):
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) \
        else format(x, spec)


def ratio(a, b):
    if a is None or b is None or b == 0 or math.isnan(a) or math.isnan(b):
        return None
    return a / b


def fmt_ratio(a, b):
    r = ratio(a, b)
    if r is None:
        return "n/a"
    return ("%.2fx" % r) if r >= 0.1 else ("%.2gx" % r)


def main(argv):
    args = argv[1:]
    markdown = False
    if "--markdown" in args:
        markdown = True
        args = [a for a in args if a != "--markdown"]
    if not args or any(a.startswith("-") for a in args):
        sys.stderr.write(__doc__)
        return 2

    results = []
    for path in args:
        base = os.path.basename(path)
        name = base[:-len(".scores")] if base.endswith(".scores") else base
        stem = path[:-len(".scores")] if path.endswith(".scores") else path
        timing = None
        if os.path.exists(stem + ".timing"):
            with open(stem + ".timing", encoding="utf-8") as f:
                timing = json.load(f)
        else:
            sys.stderr.write("report.py: warning: no %s.timing\n" % stem)
        results.append(metrics(name, load_scores(path), timing))

    base = next((m for m in results if m["peer"] == BASELINE), None)
    header = ["peer", "spam recall", "ham FP rate", "F1", "recall@<=0.1%FP",
              "msg/s/core", "F1 vs bogofilter", "msg/s/core vs bogofilter"]
    table = []
    for m in results:
        table.append([
            m["peer"],
            fmt(m["recall"], ".4f"),
            fmt(m["fp_rate"], ".4f"),
            fmt(m["f1"], ".4f"),
            fmt(m["r01"], ".4f"),
            fmt(m["mps_core"], ".1f"),
            fmt_ratio(m["f1"], base["f1"] if base else None),
            fmt_ratio(m["mps_core"], base["mps_core"] if base else None),
        ])

    widths = [max(len(r[i]) for r in [header] + table) for i in range(len(header))]
    line = "  ".join(h.rjust(w) if i else h.ljust(w)
                     for i, (h, w) in enumerate(zip(header, widths)))
    print(line)
    print("-" * len(line))
    for r in table:
        print("  ".join(c.rjust(w) if i else c.ljust(w)
                        for i, (c, w) in enumerate(zip(r, widths))))
    print()
    for m in results:
        print("%s: %d ham, %d spam; default decision %s: TP %d, FP %d; "
              "0.1%%-FP threshold %s (%d ham FP); scoring %s s CPU, %s s wall "
              "(%s msg/s wall)"
              % (m["peer"], m["ham"], m["spam"], m["decision"], m["tp"],
                 m["fp"], fmt(m["t01"], ".6g"), m["fp01"], fmt(m["cpu"], ".2f"),
                 fmt(m["wall"], ".2f"), fmt(m["mps_wall"], ".1f")))
        if m["alt"]:
            thr, (rec, fpr, f1) = m["alt"]
            print("%s: for reference, at score >= %g: recall %.4f, FP rate %.4f, "
                  "F1 %.4f" % (m["peer"], thr, rec, fpr, f1))

    if markdown:
        print()
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
        for r in table:
            print("| " + " | ".join(r) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
