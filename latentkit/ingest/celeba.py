"""Finding CelebA in the layouts users have, and its annotations. Nothing here writes files.

Layouts recognised, from a folder, a zip or a tar (read in place):

- official Google Drive folder: ``Img/img_align_celeba.zip``, ``Anno/list_attr_celeba.txt``,
  ``Anno/identity_CelebA.txt``, ``Anno/list_landmarks_align_celeba.txt``,
  ``Anno/list_bbox_celeba.txt``, ``Eval/list_eval_partition.txt``;
- Kaggle copy: ``img_align_celeba/img_align_celeba/*.jpg`` with ``list_*.csv`` (or its ``archive.zip``);
- torchvision: ``root/celeba/img_align_celeba/`` with the txt files in ``root/celeba/``;
- the bare image folder or zip with the annotation files beside it.

Annotations are searched inside the source and in its folder, its parent, and their
``Anno/`` and ``Eval/`` subfolders; ``--partition-file``/``--attributes-file`` override.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from latentkit.core import LatentkitError
from latentkit.ingest.annotations import Table, match, mismatch_warning, parse_table
from latentkit.ingest.sources import FileSource, is_image_name, open_source

CELEBA_CROP = (15, 40, 163, 188)  # the common 148x148 face box of aligned CelebA
SPLIT_BOUNDS = (162_770, 182_637)  # the official split by file number: train <= 162,770 < valid <= 182,637 < test
NO_PARTITION = 255
# kind -> (file stem, values per row when the txt file has no header line)
ANNOTATION_FILES = {
    "partition": ("list_eval_partition", 1),
    "attributes": ("list_attr_celeba", None),
    "identity": ("identity_celeba", 1),
    "landmarks": ("list_landmarks_align_celeba", None),
    "bbox": ("list_bbox_celeba", None),
}
IMAGE_ARCHIVES = ("img_align_celeba.zip", "archive.zip")


@dataclass
class CelebaSource:
    """The images of an input (sorted by name) and their annotations, row-aligned."""

    files: FileSource
    names: list[str]
    members: list[str]  # each image's path inside ``files``
    partition: np.ndarray  # (n,) uint8, 255 where unknown
    attribute_names: list[str]
    attributes: np.ndarray  # (n, k) int8, 0 where unknown
    identity: np.ndarray | None = None  # (n,) int32, 0 where unknown
    landmark_names: list[str] = field(default_factory=list)
    landmarks: np.ndarray | None = None  # (n, 10) int16 in the aligned 178x218 image, -1 where unknown
    annotations: dict[str, dict] = field(default_factory=dict)  # kind -> where from, counts, or a note
    messages: list[str] = field(default_factory=list)  # what the job must tell the user

    def close(self) -> None:
        self.files.close()


def open_celeba(
    src: str | os.PathLike,
    *,
    partition_file: str | os.PathLike | None = None,
    attributes_file: str | os.PathLike | None = None,
    scratch: Path | None = None,
) -> CelebaSource:
    """Index CelebA at ``src``; raise LatentkitError when it holds no images."""
    path = Path(src)
    outer = open_source(path, scratch=scratch)
    files, members = outer, [f for f in outer.files if is_image_name(f)]
    messages = []
    if not members and outer.kind == "folder":  # the official folder: the images are in Img/img_align_celeba.zip
        archive = next((outer.by_name[name] for name in IMAGE_ARCHIVES if name in outer.by_name), None)
        if archive is not None:
            files = open_source(path / archive, scratch=scratch)
            members = [f for f in files.files if is_image_name(f)]
            messages.append(f"images: {len(members):,} in {path / archive}")
    if not members:
        raise LatentkitError(f"no images (*.jpg, *.png, *.webp) found in {path}")
    members, duplicates = _unique_by_name(members)
    if duplicates:
        messages.append(f"warning: {duplicates:,} images share a file name with an earlier one and were left out")
    names = [m.rsplit("/", 1)[-1] for m in members]

    overrides = {"partition": partition_file, "attributes": attributes_file}
    tables = {
        kind: _find_table(kind, path, outer, files, overrides.get(kind)) for kind in ANNOTATION_FILES if kind != "bbox"
    }
    try:
        tables["bbox"] = _find_table("bbox", path, outer, files, None)
    except LatentkitError as error:  # only noted: an odd copy must not stop the job
        messages.append(f"bbox: {error} (not used)")
        tables["bbox"] = None
    source = CelebaSource(
        files=files,
        names=names,
        members=members,
        partition=np.zeros(0, np.uint8),
        attribute_names=[],
        attributes=np.zeros((len(names), 0), np.int8),
        messages=messages,
    )
    _apply_partition(source, tables["partition"])
    _apply_attributes(source, tables["attributes"])
    if tables["identity"] is not None:
        values, source.annotations["identity"] = match(tables["identity"], names, np.int32, fill=0)
        source.identity = values[:, 0]
    else:
        source.annotations["identity"] = {"from": None, "note": "no identity file: identities not stored"}
    if tables["landmarks"] is not None:
        source.landmarks, source.annotations["landmarks"] = match(tables["landmarks"], names, np.int16, fill=-1)
        source.landmark_names = tables["landmarks"].columns
    else:
        source.annotations["landmarks"] = {"from": None, "note": "no landmarks file: landmarks not stored"}
    source.annotations["bbox"] = (
        {"from": tables["bbox"].origin, "note": "boxes of the unaligned images: noted, not stored"}
        if tables["bbox"] is not None
        else {"from": None, "note": "no bbox file (it is not used)"}
    )
    for kind, report in source.annotations.items():
        if report.get("from") is None or "note" in report:
            source.messages.append(f"{kind}: {report['note']}" + (f" ({report['from']})" if report.get("from") else ""))
        else:
            source.messages.append(f"{kind}: {report['from']} ({report['matched']:,} of {len(names):,} images)")
            warning = mismatch_warning(kind, report)
            if warning:
                source.messages.append(warning)
    return source


def _unique_by_name(members: list[str]) -> tuple[list[str], int]:
    seen: dict[str, str] = {}
    for member in members:
        seen.setdefault(member.rsplit("/", 1)[-1], member)
    return sorted(seen.values(), key=lambda m: m.rsplit("/", 1)[-1]), len(members) - len(seen)


def _find_table(kind: str, path: Path, outer: FileSource, images: FileSource, override) -> Table | None:
    """The first annotation file of ``kind``: an override, else inside, else in the folders around."""
    stem, columns = ANNOTATION_FILES[kind]
    wanted = (f"{stem}.txt", f"{stem}.csv")
    if override is not None:
        file = Path(override)
        if not file.is_file():
            raise LatentkitError(f"--{kind.removesuffix('s')}-file {file} does not exist")
        return parse_table(_text(file.read_bytes(), file), origin=str(file), columns=columns)
    for source in [outer] if images is outer else [outer, images]:  # inside the folder or archive(s)
        for want in wanted:
            member = source.by_name.get(want)
            if member is not None:
                origin = f"{source.path}/{member}" if source.kind == "folder" else f"{source.path}:{member}"
                return parse_table(_text(source.read(member), Path(member)), origin=origin, columns=columns)
    base = path if path.is_dir() else path.parent
    for folder in (base, base.parent, base.parent.parent):
        for sub in (folder, folder / "Anno", folder / "Eval"):
            for want in wanted:
                for file in (sub / want, sub / want.replace("celeba", "CelebA")):
                    if file.is_file():
                        return parse_table(_text(file.read_bytes(), file), origin=str(file), columns=columns)
    return None


def _text(data: bytes, where: Path) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LatentkitError(f"{where} is not a text file") from None


def _apply_partition(source: CelebaSource, table: Table | None) -> None:
    names = source.names
    if table is None:
        numbers = [int(n.split(".")[0]) if n.split(".")[0].isdigit() else None for n in names]
        source.partition = np.array(
            [
                NO_PARTITION if k is None else 0 if k <= SPLIT_BOUNDS[0] else 1 if k <= SPLIT_BOUNDS[1] else 2
                for k in numbers
            ],
            np.uint8,
        )
        unnumbered = sum(k is None for k in numbers)
        note = "no partition file: official split by file number"
        if unnumbered:
            note += f" ({unnumbered:,} names without a number get no partition)"
        source.annotations["partition"] = {"from": None, "note": note}
        return
    values, report = match(table, names, np.int16, fill=NO_PARTITION, allowed={"0", "1", "2"})
    source.partition = values[:, 0].astype(np.uint8)
    source.annotations["partition"] = report


def _apply_attributes(source: CelebaSource, table: Table | None) -> None:
    if table is None:
        source.annotations["attributes"] = {"from": None, "note": "no attributes file: attributes not stored"}
        return
    source.attributes, source.annotations["attributes"] = match(
        table, source.names, np.int8, fill=0, allowed={"-1", "0", "1"}
    )
    source.attribute_names = table.columns


def partition_note(annotations: dict[str, dict]) -> str:
    """The store's ``partition_from``: the file it came from, or the fallback used."""
    report = annotations.get("partition", {})
    return report.get("from") or "official split by file number"
