"""Paths and the shared lookup table for the binding tests."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.environ.get("SPATTN_SOURCE_DIR") or os.path.normpath(os.path.join(HERE, "..", "..", ".."))
HEADER = os.path.join(REPO, "include", "spattn", "spattn.h")
CHECKPOINTS = os.path.join(REPO, "examples", "checkpoints")
CONFIGS = os.path.join(REPO, "examples", "configs")
WAN_MINI = os.path.join(CHECKPOINTS, "wan-mini")
LOOKUP_TABLE = os.path.join(REPO, "bindings", "testdata", "lookups.tsv")

COLUMNS = ["checkpoint", "config", "component", "layer", "phase", "timestep", "enabled",
           "disabled_reason", "phase_key", "threshold", "threshold_source", "target",
           "target_source", "cutoff", "cutoff_source"]


def lookup_rows():
    """The rows of bindings/testdata/lookups.tsv as dicts (the trailing comment dropped)."""
    rows = []
    with open(LOOKUP_TABLE, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            row = dict(zip(COLUMNS, fields[:len(COLUMNS)]))
            row["comment"] = fields[len(COLUMNS)] if len(fields) > len(COLUMNS) else ""
            rows.append(row)
    return rows
