"""Prepare TC1's and NT3's real data, offline, in CANDLE's CSV format.

Usage::

    /usr/bin/python3 -m async_search.benchmarks.prepare_data --out DIR [--force]
        [--only tc1|nt3] [--all-rda PATH] [--breast-cancer-csv PATH]

writes, under ``DIR/Pilot1/``:

``tc1_all_bt_train.csv`` / ``tc1_all_bt_test.csv``
    TC1 from the ALL leukaemia gene-expression set (Debian package
    ``r-bioc-all``, Chiaretti et al. 2004: 128 patients, Affymetrix HG-U95Av2,
    12,625 probe sets, RMA-normalised log2 expression).  The label is the
    B/T-lineage differentiation stage (``BT``), 6 classes: B1, B2, B3, B4,
    T1-T2, T3-T4 (see :data:`TC1_CLASSES` and ``PROVENANCE.md`` for why).
    Columns are ordered by decreasing variance across the kept samples, so
    CANDLE's ``feature_subsample = N`` (the first N columns) means "the N most
    variable genes".
``nt3_wdbc_train.csv`` / ``nt3_wdbc_test.csv``
    NT3 from the Wisconsin Diagnostic Breast Cancer set as shipped in
    scikit-learn (``python3-sklearn``): 569 fine-needle aspirates, 30 features;
    label 1 = malignant (tumour), 0 = benign.
``*_features.txt``, ``*_samples.csv``
    the column names in file order, and every sample's id, label and split;
``PROVENANCE.md``, ``prepared.json``
    where each file came from (package versions, checksums, choices);
    ``prepared.json`` also lets a second run see that nothing changed and return
    at once (it reads no R data then: well under a second).

Format (CANDLE's ``load_Xy_data_noheader``): no header, column 0 the integer
class, then one column per feature.  Splits are stratified 80/20 with a fixed
seed (:data:`SPLIT_SEED`), like CANDLE's 4320/1080 and 1120/280 files.  Scaling
is not applied here: the loader MaxAbs-scales train and test together, as CANDLE
does.

Exit status: 0 done (or already up to date), 1 a source is missing or unreadable
(the message names the Debian package to install), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from async_search._compat import FROZEN

__all__ = [
    "DATASETS",
    "PREP_VERSION",
    "SPLIT_SEED",
    "TEST_FRACTION",
    "TC1_CLASSES",
    "TC1_STAGE_TO_CLASS",
    "PrepareError",
    "Table",
    "stratified_split",
    "write_candle_csv",
    "read_all_leukaemia",
    "read_breast_cancer",
    "prepare",
    "source_of",
    "main",
]


PREP_VERSION = 1
SPLIT_SEED = 2019
TEST_FRACTION = 0.2
FLOAT_FORMAT = "%.7g"
FILE_MODE = 0o644  # mkstemp creates 0600; data files are for every user of the tree

ALL_RDA_CANDIDATES = (
    "/usr/lib/R/site-library/ALL/data/ALL.rda",
    "/usr/local/lib/R/site-library/ALL/data/ALL.rda",
    "/usr/lib/R/library/ALL/data/ALL.rda",
)
ALL_DEBIAN_PACKAGE = "r-bioc-all"
BREAST_CANCER_DEBIAN_PACKAGE = "python3-sklearn"

#: TC1 classes (label = index).  ALL's ``BT`` has B, B1-B4, T, T1-T4.  "B" and
#: "T" (5 each) name the lineage without a stage, so they are dropped; T1 (1
#: sample) and T4 (2) are too small for a stratified split and are merged with
#: the neighbouring stage of the same lineage.
TC1_CLASSES = ("B1", "B2", "B3", "B4", "T1-T2", "T3-T4")
TC1_STAGE_TO_CLASS: Mapping[str, Optional[str]] = {
    "B": None, "T": None,
    "B1": "B1", "B2": "B2", "B3": "B3", "B4": "B4",
    "T1": "T1-T2", "T2": "T1-T2", "T3": "T3-T4", "T4": "T3-T4",
}

WDBC_FEATURES = tuple(
    f"{stat} {name}"
    for stat in ("mean", "error", "worst")
    for name in ("radius", "texture", "perimeter", "area", "smoothness", "compactness",
                 "concavity", "concave points", "symmetry", "fractal dimension")
)

TC1_FILES = ("tc1_all_bt_train.csv", "tc1_all_bt_test.csv")
NT3_FILES = ("nt3_wdbc_train.csv", "nt3_wdbc_test.csv")
STAMP_FILE = "prepared.json"
PROVENANCE_FILE = "PROVENANCE.md"


class PrepareError(RuntimeError):
    """A data source is missing or not what was expected."""


@dataclass(**FROZEN)
class Table:
    """One labelled data set before splitting."""

    x: np.ndarray                 # samples x features, float64
    y: np.ndarray                 # int labels 0..len(class_names)-1
    sample_ids: Tuple[str, ...]
    feature_names: Tuple[str, ...]
    class_names: Tuple[str, ...]
    extra: Mapping[str, Tuple[str, ...]]  # per-sample annotations for *_samples.csv

    def __post_init__(self) -> None:
        n, f = self.x.shape
        if self.y.shape != (n,) or len(self.sample_ids) != n or len(self.feature_names) != f:
            raise ValueError(f"inconsistent table: x {self.x.shape}, y {self.y.shape}, "
                             f"{len(self.sample_ids)} ids, {len(self.feature_names)} names")
        if n and (self.y.min() < 0 or self.y.max() >= len(self.class_names)):
            raise ValueError(f"labels outside 0..{len(self.class_names) - 1}")


# --------------------------------------------------------------------- helpers

def stratified_split(y: np.ndarray, test_fraction: float = TEST_FRACTION,
                     seed: int = SPLIT_SEED) -> Tuple[np.ndarray, np.ndarray]:
    """Indices (train, test), each sorted, with every class in both parts.

    Each class gives ``round(test_fraction * n)`` samples to the test part,
    at least 1 and at most ``n - 1``; a class with fewer than 2 samples is an
    error (it cannot be in both parts).
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    test: List[int] = []
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        if members.size < 2:
            raise ValueError(f"class {label} has {members.size} sample(s); "
                             "a stratified split needs at least 2")
        n_test = int(round(test_fraction * members.size))
        n_test = min(max(n_test, 1), members.size - 1)
        test.extend(rng.choice(members, size=n_test, replace=False).tolist())
    test_idx = np.sort(np.asarray(test, dtype=np.int64))
    train_idx = np.setdiff1d(np.arange(y.size), test_idx)
    return train_idx, test_idx


def write_candle_csv(path: Path, x: np.ndarray, y: np.ndarray) -> None:
    """Headerless CSV, column 0 the integer class; written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as fh:
            for label, row in zip(y, x):
                fh.write(str(int(label)))
                fh.write(",")
                fh.write(",".join(FLOAT_FORMAT % v for v in row))
                fh.write("\n")
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _debian_version(package: str) -> str:
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package],
                             capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return "unknown (dpkg-query not available)"
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else "not installed"


# ------------------------------------------------------------------- sources

def find_all_rda(explicit: Optional[str] = None) -> Path:
    candidates = [explicit] if explicit else list(ALL_RDA_CANDIDATES)
    for cand in candidates:
        if cand and Path(cand).is_file():
            return Path(cand)
    raise PrepareError(
        f"the ALL leukaemia data set was not found (looked at {', '.join(map(str, candidates))}); "
        f"install the Debian package {ALL_DEBIAN_PACKAGE} (apt-get install {ALL_DEBIAN_PACKAGE}) "
        "or pass --all-rda PATH")


def find_breast_cancer_csv(explicit: Optional[str] = None) -> Path:
    if explicit:
        if Path(explicit).is_file():
            return Path(explicit)
        raise PrepareError(f"--breast-cancer-csv {explicit}: no such file")
    spec = importlib.util.find_spec("sklearn")  # locates the package, imports nothing
    if spec is not None and spec.submodule_search_locations:
        for root in spec.submodule_search_locations:
            cand = Path(root) / "datasets" / "data" / "breast_cancer.csv"
            if cand.is_file():
                return cand
    raise PrepareError(
        "scikit-learn's bundled breast_cancer.csv was not found; install the Debian package "
        f"{BREAST_CANCER_DEBIAN_PACKAGE} (apt-get install {BREAST_CANCER_DEBIAN_PACKAGE}) "
        "or pass --breast-cancer-csv PATH")


def _factor_strings(column) -> List[Optional[str]]:
    return [None if (v is None or (isinstance(v, float) and np.isnan(v))) else str(v)
            for v in list(column)]


def read_all_leukaemia(path: Path) -> Table:
    """TC1's table from ``ALL.rda``: genes ordered by decreasing variance."""
    try:
        from . import _rda  # first: it imports python3-rdata without its DeprecationWarning
        import rdata  # heavy (pandas, xarray): only here
    except ImportError as exc:
        raise PrepareError(f"reading {path} needs python3-rdata 0.5 (Debian 12's; apt-get "
                           f"install python3-rdata): {exc}") from exc

    parsed = _rda.parse_rda(path)
    top = parsed.object
    if _rda.symbol_name(top.tag) != "ALL":
        raise PrepareError(f"{path}: expected an object named ALL, found "
                           f"{_rda.symbol_name(top.tag)!r}")
    slots = _rda.attributes_of(top.value[0])
    missing = {"assayData", "phenoData"} - set(slots)
    if missing:
        raise PrepareError(f"{path}: ALL is not an ExpressionSet (no {sorted(missing)})")
    assay_env = slots["assayData"]
    with warnings.catch_warnings():
        # python3-rdata warns about every S4 class it has no constructor for
        # (Versions, AnnotatedDataFrame): their slots are what we read anyway.
        warnings.simplefilter("ignore")
        frame = rdata.conversion.convert(assay_env.value.frame)
        pheno = rdata.conversion.convert(slots["phenoData"])
    exprs = frame["exprs"]
    matrix = np.asarray(exprs.values, dtype=np.float64)          # genes x samples
    probes = [str(p) for p in exprs.coords[exprs.dims[0]].values]
    samples = [str(s) for s in exprs.coords[exprs.dims[1]].values]
    table = pheno.data
    if len(table) != len(samples):
        raise PrepareError(f"{path}: {len(table)} phenotype rows for {len(samples)} arrays")
    codes = [str(c) for c in table["cod"]]
    if [c.lstrip("0") for c in codes] != [s.lstrip("0") for s in samples]:
        raise PrepareError(f"{path}: phenoData rows are not in the order of the arrays")
    stages = _factor_strings(table["BT"])
    molbio = _factor_strings(table["mol.biol"])

    keep = [i for i, st in enumerate(stages) if TC1_STAGE_TO_CLASS.get(st or "") is not None]
    unknown = sorted({st for st in stages if st not in TC1_STAGE_TO_CLASS})
    if unknown:
        raise PrepareError(f"{path}: unexpected BT values {unknown}")
    labels = np.array([TC1_CLASSES.index(TC1_STAGE_TO_CLASS[stages[i]]) for i in keep])
    x = matrix[:, keep].T                                          # samples x genes
    order = np.argsort(-x.var(axis=0), kind="stable")
    return Table(
        x=x[:, order], y=labels,
        sample_ids=tuple(samples[i] for i in keep),
        feature_names=tuple(probes[j] for j in order),
        class_names=TC1_CLASSES,
        extra={"BT": tuple(stages[i] or "" for i in keep),
               "mol.biol": tuple(molbio[i] or "" for i in keep)},
    )


def read_breast_cancer(path: Path) -> Table:
    """NT3's table from scikit-learn's ``breast_cancer.csv`` (WDBC)."""
    with open(path) as fh:
        header = fh.readline().strip().split(",")
    if len(header) < 4 or header[2:4] != ["malignant", "benign"]:
        raise PrepareError(f"{path}: unexpected header {header[:4]}")
    n_samples, n_features = int(header[0]), int(header[1])
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64)
    if data.shape != (n_samples, n_features + 1) or n_features != len(WDBC_FEATURES):
        raise PrepareError(f"{path}: shape {data.shape}, header says {n_samples} x {n_features}")
    target = data[:, -1].astype(int)            # scikit-learn: 0 malignant, 1 benign
    labels = (target == 0).astype(int)          # ours: 1 tumour (malignant), 0 benign
    return Table(
        x=data[:, :-1], y=labels,
        sample_ids=tuple(f"wdbc_{i:03d}" for i in range(n_samples)),
        feature_names=WDBC_FEATURES,
        class_names=("benign", "malignant"),
        extra={"diagnosis": tuple("M" if t == 0 else "B" for t in target)},
    )


# ------------------------------------------------------------------- writing

@dataclass(**FROZEN)
class _Spec:
    name: str
    files: Tuple[str, str]
    stem: str
    source_package: str


_SPECS = {
    "tc1": _Spec("tc1", TC1_FILES, "tc1_all_bt", ALL_DEBIAN_PACKAGE),
    "nt3": _Spec("nt3", NT3_FILES, "nt3_wdbc", BREAST_CANCER_DEBIAN_PACKAGE),
}
#: The data sets prepare() can write (the built-in benchmarks' names).
DATASETS = tuple(_SPECS)


def _write_dataset(pilot: Path, spec: _Spec, table: Table) -> Dict[str, object]:
    train_idx, test_idx = stratified_split(table.y)
    write_candle_csv(pilot / spec.files[0], table.x[train_idx], table.y[train_idx])
    write_candle_csv(pilot / spec.files[1], table.x[test_idx], table.y[test_idx])
    _write_text(pilot / f"{spec.stem}_features.txt", "\n".join(table.feature_names) + "\n")
    split = np.empty(table.y.size, dtype=object)
    split[train_idx] = "train"
    split[test_idx] = "test"
    extra_cols = list(table.extra)
    lines = [",".join(["sample", "label", "class", "split", *extra_cols])]
    for i, sid in enumerate(table.sample_ids):
        cells = [sid, str(int(table.y[i])), table.class_names[table.y[i]], split[i]]
        cells += [table.extra[c][i] for c in extra_cols]
        lines.append(",".join(c.replace(",", ";") for c in cells))
    _write_text(pilot / f"{spec.stem}_samples.csv", "\n".join(lines) + "\n")
    counts = {name: {"train": int(np.sum(table.y[train_idx] == k)),
                     "test": int(np.sum(table.y[test_idx] == k))}
              for k, name in enumerate(table.class_names)}
    return {
        "samples": int(table.y.size), "features": int(table.x.shape[1]),
        "train_rows": int(train_idx.size), "test_rows": int(test_idx.size),
        "classes": list(table.class_names), "class_counts": counts,
        "files": {f: _sha256(pilot / f) for f in spec.files},
    }


def _provenance_text(stamp: Mapping[str, object]) -> str:
    lines = [
        "# Data provenance (written by async_search.benchmarks.prepare_data)",
        "",
        "CANDLE CSV format: no header, column 0 the integer class, then one column per "
        "feature. Train/test: stratified 80/20 split, numpy default_rng seed "
        f"{SPLIT_SEED}. Not scaled: the benchmark loader MaxAbs-scales train and test "
        "together, as CANDLE does.",
        "",
    ]
    tc1 = stamp.get("tc1")
    if isinstance(tc1, dict):
        lines += [
            "## TC1: tc1_all_bt_train.csv / tc1_all_bt_test.csv",
            "",
            f"- Source: `{tc1['source']}` (Debian package {ALL_DEBIAN_PACKAGE} "
            f"{tc1['source_package_version']}; sha256 {tc1['source_sha256']}).",
            "- Data: the Bioconductor `ALL` ExpressionSet, Chiaretti et al., Blood 2004 "
            "(and Clin Cancer Res 2005): 128 adult acute lymphoblastic leukaemia patients, "
            "Affymetrix HG-U95Av2 arrays, 12,625 probe sets, RMA-normalised log2 expression. "
            "Read with python3-rdata (plus the record types it lacks, see _rda.py).",
            "- Label: `BT`, the lineage and differentiation stage (B1-B4, T1-T4), not the "
            "molecular subtype `mol.biol`: stages give 6 usable classes (closer to TC1's 18 "
            "tumour types) and a task that is learnable but not trivial, while `mol.biol` has "
            "two classes of 1 sample and is dominated by NEG (74 of 128).",
            "- Dropped: `B` and `T` (5 samples each; lineage known, stage not recorded). "
            "Merged: T1 (1 sample) with T2, and T4 (2 samples) with T3, since a class needs "
            "at least 2 samples for a stratified split (neighbouring stages, same lineage).",
            f"- Kept {tc1['samples']} samples x {tc1['features']} genes -> "
            f"{tc1['train_rows']} train / {tc1['test_rows']} test rows.",
            "- Columns are ordered by decreasing variance across the kept samples "
            "(label-free, so no label leakage), so CANDLE's `feature_subsample = N` (first N "
            "columns) keeps the N most variable genes. Probe ids in column order: "
            "`tc1_all_bt_features.txt`; samples, labels, split: `tc1_all_bt_samples.csv`.",
            "",
            "| label | class | train | test |",
            "|---|---|---|---|",
        ]
        for k, (name, cnt) in enumerate(tc1["class_counts"].items()):  # type: ignore
            lines.append(f"| {k} | {name} | {cnt['train']} | {cnt['test']} |")
        lines.append("")
    nt3 = stamp.get("nt3")
    if isinstance(nt3, dict):
        lines += [
            "## NT3: nt3_wdbc_train.csv / nt3_wdbc_test.csv",
            "",
            f"- Source: `{nt3['source']}` (Debian package {BREAST_CANCER_DEBIAN_PACKAGE} "
            f"{nt3['source_package_version']}; sha256 {nt3['source_sha256']}).",
            "- Data: Wisconsin Diagnostic Breast Cancer (Street, Wolberg and Mangasarian "
            "1993; UCI ML repository), 569 fine-needle aspirates of breast masses, 30 "
            "real-valued features of the cell nuclei (mean, standard error and worst of 10 "
            "measurements).",
            "- Label: 1 = malignant (tumour), 0 = benign: NT3's tumour-vs-normal task is "
            "tumour-vs-benign here (scikit-learn's own target is the reverse, 0 = malignant).",
            f"- {nt3['samples']} samples x {nt3['features']} features -> "
            f"{nt3['train_rows']} train / {nt3['test_rows']} test rows.",
            "- Considered and not used: r-bioc-bladderbatch (real tumour vs normal bladder "
            "expression, 22,283 genes, but only 8 normal samples among 57: a 12-sample "
            "validation set makes val_loss too noisy to rank hyperparameters).",
            "",
            "| label | class | train | test |",
            "|---|---|---|---|",
        ]
        for k, (name, cnt) in enumerate(nt3["class_counts"].items()):  # type: ignore
            lines.append(f"| {k} | {name} | {cnt['train']} | {cnt['test']} |")
        lines.append("")
    return "\n".join(lines)


def _load_stamp(path: Path) -> Dict[str, object]:
    try:
        stamp = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return stamp if isinstance(stamp, dict) and stamp.get("version") == PREP_VERSION else {}


def _up_to_date(pilot: Path, entry: object, source: Path) -> bool:
    if not isinstance(entry, dict):
        return False
    st = source.stat()
    if entry.get("source") != str(source) or entry.get("source_size") != st.st_size \
            or entry.get("source_mtime_ns") != st.st_mtime_ns:
        return False
    files = entry.get("files")
    if not isinstance(files, dict) or not files:
        return False
    return all((pilot / name).is_file() for name in files)


def source_of(name: str, all_rda: Optional[str] = None,
              breast_cancer_csv: Optional[str] = None) -> Path:
    """The file data set ``name`` is prepared from; raises PrepareError if missing."""
    if name == "tc1":
        return find_all_rda(all_rda)
    return find_breast_cancer_csv(breast_cancer_csv)


def prepare(out_dir: Path, only: Sequence[str] = ("tc1", "nt3"), force: bool = False,
            all_rda: Optional[str] = None, breast_cancer_csv: Optional[str] = None,
            log=print) -> Dict[str, object]:
    """Write the data sets named in ``only`` under ``out_dir/Pilot1``; returns the stamp."""
    pilot = Path(out_dir) / "Pilot1"
    pilot.mkdir(parents=True, exist_ok=True)
    stamp_path = pilot / STAMP_FILE
    stamp = _load_stamp(stamp_path)
    stamp["version"] = PREP_VERSION
    changed = False
    for name in only:
        spec = _SPECS[name]
        source = source_of(name, all_rda, breast_cancer_csv)
        reader = read_all_leukaemia if name == "tc1" else read_breast_cancer
        if not force and _up_to_date(pilot, stamp.get(name), source):
            log(f"prepare_data: {name}: up to date in {pilot}")
            continue
        t0 = time.monotonic()
        table = reader(source)
        entry = _write_dataset(pilot, spec, table)
        st = source.stat()
        entry.update({
            "source": str(source), "source_size": st.st_size, "source_mtime_ns": st.st_mtime_ns,
            "source_sha256": _sha256(source),
            "source_package": spec.source_package,
            "source_package_version": _debian_version(spec.source_package),
        })
        stamp[name] = entry
        changed = True
        log(f"prepare_data: {name}: wrote {spec.files[0]} ({entry['train_rows']} rows) and "
            f"{spec.files[1]} ({entry['test_rows']} rows), {entry['features']} features, "
            f"{len(table.class_names)} classes, in {time.monotonic() - t0:.1f} s")
    if changed or not (pilot / PROVENANCE_FILE).is_file():
        _write_text(stamp_path, json.dumps(stamp, indent=2, sort_keys=True) + "\n")
        _write_text(pilot / PROVENANCE_FILE, _provenance_text(stamp))
    return stamp


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m async_search.benchmarks.prepare_data",
        description="Prepare TC1 and NT3 data in CANDLE's CSV format under OUT/Pilot1.")
    parser.add_argument("--out", required=True, help="data directory (files go to OUT/Pilot1)")
    parser.add_argument("--only", choices=sorted(_SPECS), action="append",
                        help="prepare only this data set (repeatable)")
    parser.add_argument("--force", action="store_true", help="rewrite even if up to date")
    parser.add_argument("--all-rda", help="path to ALL.rda (default: the r-bioc-all package)")
    parser.add_argument("--breast-cancer-csv", help="path to scikit-learn's breast_cancer.csv")
    args = parser.parse_args(argv)
    try:
        prepare(Path(args.out), only=args.only or ("tc1", "nt3"), force=args.force,
                all_rda=args.all_rda, breast_cancer_csv=args.breast_cancer_csv)
    except (PrepareError, OSError, ValueError) as exc:
        print(f"prepare_data: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
