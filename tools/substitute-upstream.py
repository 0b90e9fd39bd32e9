#!/usr/bin/env python3
"""A small stand-in for an upstream Guix substitute server (`guix publish`).

For the demo and the tests: mirrors built from deploy/mirror/ cache it, geosteer's
canary probes compare their narinfos with its own, and clients fetch narinfos and
nars from the mirrors by name, as Guix does. The formats are the real ones, so a
test can check a nar against the narinfo that names it:

  /nix-cache-info              StoreDir, WantMassQuery, Priority
  /<hash>.narinfo              StorePath, URL, Compression, FileHash, FileSize,
                               NarHash, NarSize, References, Deriver
  /nar/gzip/<hash>-<name>      the store item in the Nix ARchive format, gzipped

Hashes are printed in Nix's base32, as Guix prints them. The narinfos carry no
Signature: signing needs Guix's key pair and libgcrypt's S-expressions, and a real
Guix client would refuse these substitutes unless their key were authorized. Nothing
in geosteer reads signatures; the canary compares NarHash only.

Usage:
  substitute-upstream.py generate DIR          writes the files above under DIR
  substitute-upstream.py serve DIR ADDR PORT   serves DIR over HTTP/1.1 (GET, HEAD)
  substitute-upstream.py list DIR              one line per item: HASH NARINFO NAR-URL
  substitute-upstream.py nar-hash FILE         sha256:<base32> of an uncompressed nar

Everything generate writes is a function of the item list below: the same hashes on
every run and every machine, so fixtures and expectations never drift.
"""

import gzip
import hashlib
import http.server
import os
import signal
import socketserver
import sys

STORE_DIR = "/gnu/store"
NIX_BASE32 = "0123456789abcdfghijklmnpqrsvwxyz"

# Each item is a small tree: (path inside the item, kind, content). Kinds: "file",
# "exec" (an executable file), "link" (content is the target). References name other
# items; every item refers to itself when a file mentions its own store path.
ITEMS = [
    {
        "name": "hello-2.12.1",
        "tree": [
            ("bin/hello", "exec", "#!/bin/sh\necho 'Hello, world!'\n"),
            ("share/doc/hello-2.12.1/README",
             "file", "GNU Hello prints a friendly greeting.\n" * 40),
            ("share/info/hello.info", "file", "This is hello.info.\n" * 200),
        ],
        "references": ["glibc-2.35"],
    },
    {
        "name": "glibc-2.35",
        "tree": [
            ("lib/libc.so.6", "exec", "".join(f"symbol_{i:05d}\n" for i in range(3000))),
            ("lib/libc.so", "link", "libc.so.6"),
            ("share/locale/locale.alias", "file", "# Locale name alias data base.\n" * 30),
        ],
        "references": [],
    },
    {
        "name": "guile-3.0.9",
        "tree": [
            ("bin/guile", "exec", "#!/bin/sh\nexec guile-3.0 \"$@\"\n"),
            ("lib/libguile-3.0.so.1", "file", "".join(f"scm_{i:05d}\n" for i in range(5000))),
            ("share/guile/3.0/ice-9/boot-9.scm", "file", "(define-module (ice-9 boot-9))\n" * 100),
        ],
        "references": ["glibc-2.35"],
    },
]


def nix_base32(digest: bytes) -> str:
    """Nix's base32: the digest read as a little-endian number, most significant
    5-bit group first, in an alphabet without e, o, u and t."""
    length = (len(digest) * 8 - 1) // 5 + 1
    out = []
    for n in range(length - 1, -1, -1):
        bit = n * 5
        i, j = divmod(bit, 8)
        c = digest[i] >> j
        if i + 1 < len(digest):
            c |= digest[i + 1] << (8 - j)
        out.append(NIX_BASE32[c & 0x1F])
    return "".join(out)


def store_hash(name: str) -> str:
    """A store path's 32-character hash part. Real ones hash the derivation; this
    one folds a SHA-256 of the name to 160 bits as Nix compresses its hashes."""
    digest = hashlib.sha256(f"geosteer-stand-in:{name}".encode()).digest()
    folded = bytearray(20)
    for i, byte in enumerate(digest):
        folded[i % 20] ^= byte
    return nix_base32(bytes(folded))


def nar_string(data: bytes) -> bytes:
    """A NAR string: its length as 64-bit little-endian, then the bytes, padded
    with zeros to a multiple of 8."""
    return len(data).to_bytes(8, "little") + data + b"\0" * (-len(data) % 8)


def nar_strings(*words) -> bytes:
    return b"".join(nar_string(w if isinstance(w, bytes) else w.encode()) for w in words)


def nar_node(node) -> bytes:
    """Serialises a node of the tree built by as_tree: a dict is a directory (its
    entries sorted by name, as NAR requires), a tuple a file or a symlink."""
    if isinstance(node, dict):
        out = nar_strings("(", "type", "directory")
        for name in sorted(node):
            out += nar_strings("entry", "(", "name", name, "node") + nar_node(node[name])
            out += nar_strings(")")
        return out + nar_strings(")")
    kind, content = node
    if kind == "link":
        return nar_strings("(", "type", "symlink", "target", content, ")")
    out = nar_strings("(", "type", "regular")
    if kind == "exec":
        out += nar_strings("executable", "")
    return out + nar_strings("contents", content.encode(), ")")


def as_tree(entries):
    root = {}
    for path, kind, content in entries:
        *dirs, leaf = path.split("/")
        node = root
        for d in dirs:
            node = node.setdefault(d, {})
        node[leaf] = (kind, content)
    return root


def nar(entries) -> bytes:
    return nar_string(b"nix-archive-1") + nar_node(as_tree(entries))


def sha256_base32(data: bytes) -> str:
    return "sha256:" + nix_base32(hashlib.sha256(data).digest())


def base_name(name: str) -> str:
    return f"{store_hash(name)}-{name}"


def generate(directory: str) -> None:
    os.makedirs(os.path.join(directory, "nar", "gzip"), exist_ok=True)
    write(directory, "nix-cache-info",
          f"StoreDir: {STORE_DIR}\nWantMassQuery: 0\nPriority: 100\n".encode())
    for item in ITEMS:
        archive = nar(item["tree"])
        # mtime=0 and no file name in the header: the same bytes on every run.
        compressed = gzip.compress(archive, compresslevel=9, mtime=0)
        url = f"nar/gzip/{base_name(item['name'])}"
        write(directory, url, compressed)
        references = " ".join(sorted(base_name(r) for r in item["references"]))
        narinfo = (
            f"StorePath: {STORE_DIR}/{base_name(item['name'])}\n"
            f"URL: {url}\n"
            "Compression: gzip\n"
            f"FileHash: {sha256_base32(compressed)}\n"
            f"FileSize: {len(compressed)}\n"
            f"NarHash: {sha256_base32(archive)}\n"
            f"NarSize: {len(archive)}\n"
            f"References: {references}\n"
            f"Deriver: {store_hash(item['name'] + '.drv')}-{item['name']}.drv\n"
        )
        write(directory, f"{store_hash(item['name'])}.narinfo", narinfo.encode())


def write(directory: str, relative: str, data: bytes) -> None:
    path = os.path.join(directory, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)


def listing(directory: str):
    for item in ITEMS:
        narinfo = f"{store_hash(item['name'])}.narinfo"
        if not os.path.exists(os.path.join(directory, narinfo)):
            sys.exit(f"{directory}: no {narinfo}; run `generate {directory}` first")
        yield store_hash(item["name"]), narinfo, f"nar/gzip/{base_name(item['name'])}"


CONTENT_TYPES = {
    "nix-cache-info": "text/x-nix-cache-info",
    ".narinfo": "text/x-nix-narinfo",
}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as mirrors' upstream pools expect
    server_version = "substitute-upstream"
    root = "."

    def do_HEAD(self):
        self.respond(send_body=False)

    def do_GET(self):
        self.respond(send_body=True)

    def respond(self, send_body: bool) -> None:
        relative = self.path.split("?", 1)[0].lstrip("/")
        path = os.path.normpath(os.path.join(self.root, relative))
        # Only regular files under the root: no directory listings, no "..".
        inside = path.startswith(os.path.join(self.root, ""))
        if not relative or not inside or not os.path.isfile(path):
            self.send_status(404, b"not found\n", "text/plain", send_body)
            return
        with open(path, "rb") as f:
            body = f.read()
        kind = next((t for suffix, t in CONTENT_TYPES.items() if relative.endswith(suffix)),
                    "application/octet-stream")
        self.send_status(200, body, kind, send_body)

    def send_status(self, status: int, body: bytes, kind: str, send_body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        if status == 200 and kind == "text/x-nix-narinfo":
            # As `guix publish --ttl`: how long a client may keep the narinfo.
            self.send_header("Cache-Control", "max-age=86400")
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write(f"{self.address_string()} {fmt % args}\n")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(directory: str, address: str, port: int) -> None:
    Handler.root = os.path.realpath(directory)
    if ":" in address:
        Server.address_family = __import__("socket").AF_INET6
    with Server((address, port), Handler) as server:
        sys.stderr.write(f"serving {Handler.root} on {address}:{port}\n")
        server.serve_forever()


def main(argv) -> int:
    usage = __doc__.split("Usage:")[1].split("\n\n")[0]
    if len(argv) < 3:
        sys.stderr.write("usage:" + usage + "\n")
        return 2
    command, args = argv[1], argv[2:]
    if command == "generate" and len(args) == 1:
        generate(args[0])
    elif command == "serve" and len(args) == 3:
        try:
            serve(args[0], args[1], int(args[2]))
        except KeyboardInterrupt:
            pass
    elif command == "list" and len(args) == 1:
        # `list DIR | head -n 1` is the usual use: a closed pipe is not an error.
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        for hash_part, narinfo, url in listing(args[0]):
            print(hash_part, narinfo, url)
    elif command == "nar-hash" and len(args) == 1:
        with open(args[0], "rb") as f:
            print(sha256_base32(f.read()))
    else:
        sys.stderr.write("usage:" + usage + "\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
