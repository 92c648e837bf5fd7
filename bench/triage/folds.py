#!/usr/bin/env python3
"""Cross-validation folds of a split's training file, for bench/triage.

Usage: folds.py TRAIN_TSV OUT_DIR K

Writes OUT_DIR/foldN/train.tsv and OUT_DIR/foldN/test.tsv for N in 0..K-1:
fold N tests every K-th line of TRAIN_TSV starting at line N and trains on the
rest. The pooled test scores of all folds measure Sidekick on messages from the
same time and mailboxes as its training ones: the standard split's test half is
later mail (spam-2 after spam-1), and the gap between the two is that drift.
"""
import os
import sys


def main(argv):
    if len(argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    train_tsv, out_dir, k = argv[1], argv[2], argv[3]
    try:
        k = int(k)
    except ValueError:
        k = 0
    if k < 2:
        sys.stderr.write("folds.py: error: K must be a whole number of at least 2\n")
        return 2
    with open(train_tsv, encoding="utf-8") as f:
        lines = [line for line in f.read().splitlines() if line]
    if len(lines) < k:
        sys.stderr.write("folds.py: error: %s has fewer than %d lines\n" % (train_tsv, k))
        return 1
    for n in range(k):
        fold = os.path.join(out_dir, "fold%d" % n)
        os.makedirs(fold, exist_ok=True)
        with open(os.path.join(fold, "train.tsv"), "w", encoding="utf-8") as f:
            f.writelines(line + "\n" for i, line in enumerate(lines) if i % k != n)
        with open(os.path.join(fold, "test.tsv"), "w", encoding="utf-8") as f:
            f.writelines(line + "\n" for i, line in enumerate(lines) if i % k == n)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
