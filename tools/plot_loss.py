#!/usr/bin/env python3
"""plot_loss.py - turns build/train's CSV log (step,train_loss,val_loss,lr,tokens_per_s; with --select-frac
step,train_loss,select_loss,val_loss,lr,tokens_per_s, val in the last row only) into a loss-curve PNG.
Usage: plot_loss.py LOG.csv OUT.png [--title TEXT]. Needs matplotlib (Debian python3-matplotlib)."""
import argparse, csv, sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("png")
    ap.add_argument("--title", default="efichat training")
    args = ap.parse_args()
    steps, train, vsteps, val, lrs, ssteps, sel = [], [], [], [], [], [], []
    with open(args.csv, newline="") as f:
        for row in csv.DictReader(f):
            s = int(row["step"])
            steps.append(s)
            train.append(float(row["train_loss"]))
            lrs.append(float(row["lr"]))
            if row.get("select_loss"):
                ssteps.append(s)
                sel.append(float(row["select_loss"]))
            if row["val_loss"]:
                vsteps.append(s)
                val.append(float(row["val_loss"]))
    if not steps:
        sys.exit(f"plot_loss: {args.csv} has no rows")
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    ax.plot(steps, train, lw=0.8, alpha=0.7, label="train (batch)")
    if sel:
        ax.plot(ssteps, sel, "o-", ms=3, lw=1.5, label=f"select (best {min(sel):.3f})")
        if val:  # scored once, on the model of the best selection loss
            ax.plot(vsteps, val, "s", ms=6, label=f"val of the chosen model {val[0]:.3f}")
    elif val:
        ax.plot(vsteps, val, "o-", ms=3, lw=1.5, label=f"val (best {min(val):.3f})")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats/byte)")
    ax.set_ylim(min(train + val + sel) - 0.05, min(max(train + val + sel), 3.5))
    ax.grid(alpha=0.3)
    ax2 = ax.twinx()
    ax2.plot(steps, lrs, color="gray", lw=0.8, ls="--", label="learning rate")
    ax2.set_ylabel("learning rate", color="gray")
    lines = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    labels = ax.get_legend_handles_labels()[1] + ax2.get_legend_handles_labels()[1]
    ax.legend(lines, labels, loc="upper right")
    ax.set_title(args.title)
    fig.tight_layout()
    fig.savefig(args.png)
    print(f"plot_loss: wrote {args.png} ({len(steps)} rows, {len(sel) or len(val)} evaluations)")


if __name__ == "__main__":
    main()
