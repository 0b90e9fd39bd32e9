#!/usr/bin/env python3
"""Generates metrics/world_map_data.cpp: the coastlines of the status page's world map.

Source: Natural Earth's 1:110m land, version 4.1.0, in the public domain
(https://www.naturalearthdata.com/about/terms-of-use/), as the TopoJSON file
land-110m.json of the npm package world-atlas 2.0.2 (ISC licence, Mike Bostock,
https://github.com/topojson/world-atlas). The package's npm integrity and the file's
sha256 are pinned below: a later run reads the same bytes or stops, and the build reads
only the generated file, never the network.

Usage:
  gen-world-map.py --fetch [-o FILE]    npm pack world-atlas@2.0.2 into a temporary directory
  gen-world-map.py PACKAGE [-o FILE]    a tarball from npm pack, or the directory it unpacks to

What it does to the data, in order:
  - decodes the topology: quantized, delta-encoded arcs, ~i meaning arc i reversed;
  - cuts the rings at the antimeridian: the topology joins land across ±180 (Chukotka,
    Fiji, Wrangel Island) and Antarctica circles the south pole, but the page's
    equirectangular map has its edges there, so each piece is closed along the edge;
  - splits the land at Suez and Darién: Africa, Eurasia and the two Americas are one
    piece of land each in the data, and the page names each continent;
  - simplifies the rings lightly (Douglas-Peucker, 0.1 degree: 0.3 px on the 1000 px
    map) and rounds them to 0.1 degree, dropping repeated points;
  - names the rings around a few known points; the holes (the Caspian Sea) become the
    inland seas, drawn over the land as water.
"""

import argparse
import base64
import hashlib
import io
import json
import math
import os
import subprocess
import sys
import tarfile
import tempfile

VERSION = "2.0.2"
INTEGRITY = ("sha512-IXfV0qwlKXpckz1FhwXVwKRjiIhOnWttOskm5CtxMsjgE/MXAYRHWJqgXOpM8IkcPBoXnyTU5lFHc"
             "Ya5ChG0LQ==")
LAND_SHA256 = "ead5f68119c49a9250902e7da303bcb209341bbb8fefe7369a439b48b704658a"
NATURAL_EARTH_VERSION = "4.1.0"  # as world-atlas's README states
TOLERANCE = 0.1  # degree, 0.3 px on the 1000 px map: what simplifying may move a coast
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUT = os.path.join(REPO, "metrics", "world_map_data.cpp")

# Where one continent meets the next: (lat, lon) of a vertex on either coast, the cut
# running straight between them. Suez: the head of the gulf, Port Said. Darién: the
# Colombian border on the Caribbean and on the Pacific.
ISTHMUSES = [((29.85, 32.42), (31.26, 32.19)), ((8.67, -77.35), (7.22, -77.88))]

# A point inside each ring that gets a name: the page shows it as the ring's tooltip.
LAND_NAMES = [
    ("North America", 41.9, -87.6), ("South America", -15.8, -47.9),
    ("Eurasia", 55.75, 37.6), ("Africa", -1.3, 36.8), ("Australia", -23.7, 133.9),
    ("Antarctica", -80.0, 0.0), ("Greenland", 72.0, -40.0), ("Baffin Island", 70.0, -72.0),
    ("Great Britain", 52.5, -1.5), ("Ireland", 53.35, -7.5), ("Iceland", 64.9, -18.5),
    ("Madagascar", -18.9, 47.5), ("Sri Lanka", 7.5, 80.7), ("Honshu", 36.5, 138.5),
    ("Borneo", 1.0, 114.0), ("Sumatra", 0.0, 102.0), ("New Guinea", -5.5, 142.0),
    ("New Zealand North Island", -38.5, 176.0), ("New Zealand South Island", -43.5, 171.0),
]
SEA_NAMES = [("Caspian Sea", 42.0, 51.0)]


def fail(message):
    sys.exit(f"gen-world-map: {message}")


def fetch(directory):
    """The pinned package's tarball, from the npm registry."""
    subprocess.run(["npm", "pack", "--silent", "--pack-destination", directory,
                    f"world-atlas@{VERSION}"], check=True, stdout=subprocess.DEVNULL)
    return os.path.join(directory, f"world-atlas-{VERSION}.tgz")


def land_json(package):
    """land-110m.json's bytes, from the tarball, checked against npm's integrity, or the
    directory it unpacks to."""
    if os.path.isdir(package):
        with open(os.path.join(package, "land-110m.json"), "rb") as f:
            return f.read()
    with open(package, "rb") as f:
        tarball = f.read()
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    if integrity != INTEGRITY:
        fail(f"{package}: integrity {integrity}, not world-atlas@{VERSION}'s {INTEGRITY}")
    with tarfile.open(fileobj=io.BytesIO(tarball)) as tar:
        return tar.extractfile("package/land-110m.json").read()


def decode_arcs(topology):
    """Each arc as (lon, lat) points: the positions are quantized and delta-encoded."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring_points(arcs, indexes):
    """One closed ring: its arcs end to end, each sharing its first point with the last."""
    points = []
    for i in indexes:
        arc = arcs[i] if i >= 0 else arcs[~i][::-1]
        points.extend(arc[1:] if points else arc)
    return points


def land_polygons(topology):
    """Each polygon of the land as a list of rings: its outline, then its holes."""
    arcs = decode_arcs(topology)
    for geometry in topology["objects"]["land"]["geometries"]:
        if geometry["type"] == "Polygon":
            polygons = [geometry["arcs"]]
        elif geometry["type"] == "MultiPolygon":
            polygons = geometry["arcs"]
        else:
            fail(f"unexpected {geometry['type']} in the land")
        for polygon in polygons:
            yield [ring_points(arcs, ring) for ring in polygon]


def unwrap(ring):
    """The ring with continuous longitudes, beyond ±180 where it crosses the antimeridian:
    each step is the shorter way round, and a point on the antimeridian may carry either
    sign in the data."""
    out = [ring[0]]
    for lon, lat in ring[1:]:
        previous = out[-1][0]
        out.append((previous + (lon - previous + 180) % 360 - 180, lat))
    return out


def clip_to_meridian(ring, meridian, side):
    """Sutherland-Hodgman: the part of a closed ring where side * (lon - meridian) <= 0."""
    def inside(p):
        return side * (p[0] - meridian) <= 0

    out = []
    for a, b in zip(ring, ring[1:]):
        if inside(a):
            out.append(a)
        if inside(a) != inside(b):
            t = (meridian - a[0]) / (b[0] - a[0])
            out.append((meridian, a[1] + t * (b[1] - a[1])))
    return out + out[:1]


def map_pieces(ring):
    """The ring's pieces on the map, between -180 and 180, each closed."""
    ring = unwrap(ring)
    end = ring.pop()  # the first point again, or a turn round the globe from it
    if abs(end[0] - ring[0][0]) > 180:
        # It circles a pole (Antarctica): close it along the pole, the map's bottom or top.
        pole = -90 if sum(lat for _, lat in ring) < 0 else 90
        ring += [end, (end[0], pole), (ring[0][0], pole)]
    ring.append(ring[0])
    pieces = []
    for shift in (-360, 0, 360):
        piece = [(lon + shift, lat) for lon, lat in ring]
        piece = clip_to_meridian(clip_to_meridian(piece, -180, -1), 180, 1)
        if len(piece) >= 4:
            pieces.append(piece)
    return pieces


def vertex_at(rings, lat, lon):
    """(ring, index) of the vertex at (lat, lon), to within 0.05 degree."""
    for r, ring in enumerate(rings):
        for i, (x, y) in enumerate(ring[:-1]):
            if abs(x - lon) < 0.05 and abs(y - lat) < 0.05:
                return r, i
    fail(f"no vertex at ({lat}, {lon}): has the data changed?")


def split(rings, a, b):
    """Cuts the ring holding vertices a and b in two along the line between them."""
    (r, i), (s, j) = vertex_at(rings, *a), vertex_at(rings, *b)
    if r != s:
        fail(f"{a} and {b} are on different rings")
    i, j = sorted((i, j))
    points = rings[r][:-1]
    first = points[i:j + 1] + [points[i]]
    second = points[j:] + points[:i + 1] + [points[j]]
    return rings[:r] + [first, second] + rings[r + 1:]


def simplified(line):
    """Douglas-Peucker: the line without the points within TOLERANCE of the straight line
    from its first point to its last, recursively."""
    (ax, ay), (bx, by) = line[0], line[-1]
    length = math.hypot(bx - ax, by - ay)

    def distance(p):
        return abs((bx - ax) * (p[1] - ay) - (by - ay) * (p[0] - ax)) / length

    far = max(range(1, len(line) - 1), key=lambda i: distance(line[i]), default=None)
    if far is None or distance(line[far]) <= TOLERANCE:
        return [line[0], line[-1]]
    return simplified(line[:far + 1])[:-1] + simplified(line[far:])


def simplified_ring(ring):
    """A closed ring simplified as two lines, between its first point and the farthest."""
    far = max(range(len(ring)), key=lambda i: math.dist(ring[i], ring[0]))
    return simplified(ring[:far + 1])[:-1] + simplified(ring[far:])


def rounded(ring):
    """(lat, lon) to 0.1 degree, without repeated points; None if nothing is left of it."""
    out = []
    for lon, lat in ring:
        point = (round(lat, 1) + 0.0, round(lon, 1) + 0.0)  # + 0.0: no -0.0
        if not out or point != out[-1]:
            out.append(point)
    return out if len(out) >= 4 else None


def contains(ring, lat, lon):
    """Ray casting, as the tests do."""
    inside = False
    for (alat, alon), (blat, blon) in zip(ring, ring[1:]):
        if (alat > lat) != (blat > lat):
            if lon < (blon - alon) * (lat - alat) / (blat - alat) + alon:
                inside = not inside
    return inside


def named(rings, names):
    """(name, ring) for each ring; a name goes to the one ring around its point."""
    found = {}
    for name, lat, lon in names:
        around = [i for i, ring in enumerate(rings) if contains(ring, lat, lon)]
        if len(around) != 1 or around[0] in found:
            fail(f"{name}: ({lat}, {lon}) is in {len(around)} rings, not one of its own")
        found[around[0]] = name
    return [(found.get(i, ""), ring) for i, ring in enumerate(rings)]


def outlines(topology):
    """(land, seas): lists of (name, ring of (lat, lon))."""
    land, seas = [], []
    for polygon in land_polygons(topology):
        land += map_pieces(polygon[0])
        for hole in polygon[1:]:
            seas += map_pieces(hole)
    for a, b in ISTHMUSES:
        land = split(land, a, b)
    land = [r for r in (rounded(simplified_ring(r)) for r in land) if r]
    seas = [r for r in (rounded(simplified_ring(r)) for r in seas) if r]
    return named(land, LAND_NAMES), named(seas, SEA_NAMES)


def number(x):
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


def array(name, ring):
    """A constexpr GeoPoint array, its points packed into lines of at most 100 columns."""
    lines, line = [], "   "
    for lat, lon in ring:
        point = f" {{{number(lat)}, {number(lon)}}},"
        if len(line) + len(point) > 100:
            lines.append(line)
            line = "   "
        line += point
    lines.append(line)
    return f"constexpr GeoPoint {name}[] = {{\n" + "\n".join(lines) + "\n};\n"


def table(name, prefix, rings):
    rows = "".join(f'    {{"{n}", {prefix}{i}}},\n' for i, (n, _) in enumerate(rings))
    arrays = "".join(array(f"{prefix}{i}", ring) for i, (_, ring) in enumerate(rings))
    return arrays + f"\nconstexpr Outline {name}[] = {{\n{rows}}};\n"


def source(land, seas, land_sha256):
    points = sum(len(ring) for _, ring in land + seas)
    return f"""\
// Generated by tools/gen-world-map.py: do not edit. To regenerate:
//   tools/gen-world-map.py --fetch
// From Natural Earth's 1:110m land, version {NATURAL_EARTH_VERSION}, public domain
// (https://www.naturalearthdata.com/about/terms-of-use/), as land-110m.json in the npm
// package world-atlas@{VERSION} (ISC, https://github.com/topojson/world-atlas).
// The tarball's npm integrity and land-110m.json's sha256:
//   {INTEGRITY}
//   {land_sha256}
// Cut at ±180, split at Suez and Darién, simplified and rounded to 0.1 degree:
// {len(land)} rings of land and {len(seas)} of inland sea, {points} points.
#include "metrics/world_map.h"

namespace geosteer::metrics {{
namespace {{

{table("kLand", "kLand", land)}
{table("kSeas", "kSea", seas)}
}}  // namespace

std::span<const Outline> land_outlines() {{ return kLand; }}
std::span<const Outline> inland_seas() {{ return kSeas; }}

}}  // namespace geosteer::metrics
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source_group = parser.add_mutually_exclusive_group(required=True)
    source_group.add_argument("--fetch", action="store_true",
                              help=f"npm pack world-atlas@{VERSION} into a temporary directory")
    source_group.add_argument("package", nargs="?",
                              help="world-atlas's tarball, or the directory it unpacks to")
    parser.add_argument("-o", "--output", default=OUTPUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        data = land_json(fetch(directory) if args.fetch else args.package)
    land_sha256 = hashlib.sha256(data).hexdigest()
    if land_sha256 != LAND_SHA256:
        fail(f"land-110m.json has sha256 {land_sha256}, not world-atlas@{VERSION}'s {LAND_SHA256}")
    land, seas = outlines(json.loads(data))
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(source(land, seas, land_sha256))
    print(f"{args.output}: {len(land)} rings of land and {len(seas)} of inland sea")


if __name__ == "__main__":
    main()
