#!/usr/bin/env python3
"""Train/test split of the UCI SMS Spam Collection for bench/sms.

Usage: split.py SMSSpamCollection.tsv OUT_DIR

Lines are "ham|spam<TAB>text". Every fifth text (the 5th, 10th, ...) is the
test split, the others the training split: the split `sidekick model train
--texts` uses. Each text is written as OUT_DIR/texts/NNNNN.txt, a message
with no headers (a blank line, then the text), which is how bogofilter reads
a body; bench_sms reads the text back from it. Writes OUT_DIR/train.tsv and
OUT_DIR/test.tsv: lines "ham|spam<TAB>abs path".
"""
import os
import sys


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        sys.exit(2)
    source, out = sys.argv[1], os.path.abspath(sys.argv[2])
    texts = os.path.join(out, "texts")
    os.makedirs(texts, exist_ok=True)
    splits = {"train": [], "test": []}
    n = 0
    with open(source, encoding="utf-8", errors="surrogateescape", newline="\n") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n").rstrip("\r")
            if not line:
                continue
            label, tab, text = line.partition("\t")
            if label not in ("ham", "spam") or not tab:
                sys.stderr.write("split.py: %s:%d: expected ham or spam, a tab, the text\n"
                                 % (source, number))
                sys.exit(1)
            n += 1
            path = os.path.join(texts, "%05d.txt" % n)
            with open(path, "w", encoding="utf-8", errors="surrogateescape") as t:
                t.write("\n" + text + "\n")
            splits["test" if n % 5 == 0 else "train"].append((label, path))
    for name, rows in splits.items():
        with open(os.path.join(out, name + ".tsv"), "w") as f:
            for label, path in rows:
                f.write("%s\t%s\n" % (label, path))
    counts = {k: (sum(1 for l, _ in v if l == "ham"), sum(1 for l, _ in v if l == "spam"))
              for k, v in splits.items()}
    print("split: train %d ham, %d spam; test %d ham, %d spam"
          % (counts["train"] + counts["test"]))


if __name__ == "__main__":
    main()
