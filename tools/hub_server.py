#!/usr/bin/env python3
"""A small stand-in for the Hugging Face hub, for tests (Python 3 standard library only).

Serves local folders in the hub's URL layout:

    GET/HEAD /{repo}/resolve/{revision}/{file}

like huggingface.co does:
  * *.safetensors files are "LFS" files: the resolve URL answers 302 with X-Linked-Size,
    X-Linked-Etag: "<sha256>" and ETag, redirecting to /_lfs/{repo}/{revision}/{file}, which
    serves the bytes (use --no-redirect to serve them directly, with the same headers);
  * other files answer 200 with Content-Length and an ETag;
  * an unknown repo answers 401 with X-Error-Code: RepoNotFound, a missing file 404 with
    X-Error-Code: EntryNotFound;
  * Range requests ("bytes=N-" or "bytes=N-M") answer 206 with Content-Range, or 416;
  * every response carries X-Repo-Commit.

Fault injection for tests:
  --cut-after N     the first GET of each file larger than N bytes sends the full
                    Content-Length but closes the connection after N bytes
  --corrupt         flip one byte in the middle of every served *.safetensors body
                    (headers still carry the true sha256)
  --ignore-range    answer Range requests with 200 and the whole file
  --require-token T answer 401 unless "Authorization: Bearer T" is sent
  --gated REPO      answer 403 with X-Error-Code: GatedRepo for that repo
  --hide-sizes      send no X-Linked-Size, and no Content-Length on HEAD answers (clients
                    then learn sizes only from the GET)

Usage:
  hub_server.py --repo gpt2=/path/to/folder [--repo org/name=/path ...] [--port 0]
                [--port-file FILE] [--log FILE] [--max-seconds 300] [faults...]

With --port 0 (default) a free port is chosen; it is printed on stdout (one line) and
written to --port-file if given. The server stops by itself after --max-seconds.
Each request is logged to --log (or stderr) as: METHOD PATH range=RANGE status=CODE
"""
import argparse
import hashlib
import http.server
import os
import socket
import sys
import threading
import time

LFS_SUFFIX = ".safetensors"


class State:
    def __init__(self, args):
        self.repos = {}
        for spec in args.repo:
            if "=" not in spec:
                sys.exit("--repo wants ID=FOLDER, got %r" % spec)
            rid, folder = spec.split("=", 1)
            self.repos[rid] = os.path.realpath(folder)
        self.cut_after = args.cut_after
        self.corrupt = args.corrupt
        self.ignore_range = args.ignore_range
        self.redirect = not args.no_redirect
        self.token = args.require_token
        self.gated = set(args.gated or [])
        self.hide_sizes = args.hide_sizes
        self.lock = threading.Lock()
        self.cut_done = set()
        self.sha_cache = {}
        self.log_file = open(args.log, "a", buffering=1) if args.log else sys.stderr

    def sha256(self, path):
        st = os.stat(path)
        key = (path, st.st_size, st.st_mtime_ns)
        with self.lock:
            if key in self.sha_cache:
                return self.sha_cache[key]
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        with self.lock:
            self.sha_cache[key] = h.hexdigest()
        return h.hexdigest()

    def log(self, line):
        with self.lock:
            self.log_file.write(line + "\n")
            self.log_file.flush()


COMMIT = "0123456789abcdef0123456789abcdef01234567"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "seam-test-hub/1"
    state = None  # set in main

    def log_message(self, fmt, *args):  # silence the default access log
        pass

    def do_HEAD(self):
        self.handle_request(head=True)

    def do_GET(self):
        self.handle_request(head=False)

    # -------------------------------------------------------------- helpers

    def reply(self, code, headers=(), body=b"", head=False):
        self.send_response(code)
        sent_len = False
        for k, v in headers:
            if k.lower() == "content-length":
                sent_len = True
            self.send_header(k, v)
        if not sent_len:
            self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Repo-Commit", COMMIT)
        self.end_headers()
        if body and not head:
            self.wfile.write(body)
        self.logged(code)

    def logged(self, code):
        self.state.log("%s %s range=%s status=%d" % (self.command, self.path,
                                                     self.headers.get("Range", "-"), code))

    def error(self, code, err_code, msg, head):
        body = (msg + "\n").encode()
        self.reply(code, [("Content-Type", "text/plain"), ("X-Error-Code", err_code),
                          ("X-Error-Message", msg)], body, head)

    def parse(self):
        """(kind, repo, revision, file) where kind is 'resolve' or 'lfs', or None."""
        path = self.path.split("?", 1)[0]
        parts = path.split("/")[1:]
        kind = "resolve"
        if parts and parts[0] == "_lfs":
            kind = "lfs"
            parts = parts[1:]
        # repo may be one or two segments: find "resolve" for kind=resolve; for lfs the
        # layout is /_lfs/{repo}/{rev}/{file} with repo found by longest known prefix.
        if kind == "resolve":
            if "resolve" not in parts:
                return None
            i = parts.index("resolve")
            repo = "/".join(parts[:i])
            if len(parts) < i + 3:
                return None
            rev = parts[i + 1]
            rel = "/".join(parts[i + 2:])
        else:
            for n in (2, 1):
                repo = "/".join(parts[:n])
                if repo in self.state.repos:
                    break
            rev = parts[n] if n < len(parts) else ""
            rel = "/".join(parts[n + 1:])
        rev = rev.replace("%2F", "/").replace("%2f", "/")
        return kind, repo, rev, rel

    # -------------------------------------------------------------- main

    def handle_request(self, head):
        st = self.state
        if st.token is not None:
            if self.headers.get("Authorization", "") != "Bearer " + st.token:
                return self.error(401, "RepoNotFound", "Invalid credentials in Authorization header", head)
        parsed = self.parse()
        if not parsed or not parsed[1] or not parsed[3]:
            return self.error(404, "EntryNotFound", "no such path", head)
        kind, repo, rev, rel = parsed
        if repo in st.gated:
            return self.error(403, "GatedRepo", "Access to model %s is restricted" % repo, head)
        root = st.repos.get(repo)
        if root is None:
            return self.error(401, "RepoNotFound", "Repository not found", head)
        segs = rel.split("/")
        if any(s in ("", ".", "..") for s in segs) or "\\" in rel:
            return self.error(404, "EntryNotFound", "bad file name", head)
        path = os.path.realpath(os.path.join(root, *segs))
        if not path.startswith(root + os.sep) or not os.path.isfile(path):
            return self.error(404, "EntryNotFound", "Entry not found", head)
        size = os.path.getsize(path)
        lfs = rel.endswith(LFS_SUFFIX)
        extra = []
        if lfs:
            sha = st.sha256(path)
            extra = [("X-Linked-Size", str(size)), ("X-Linked-Etag", '"%s"' % sha), ("ETag", '"%s"' % sha)]
            if st.hide_sizes:
                extra = extra[1:]
            if kind == "resolve" and st.redirect:
                loc = "/_lfs/%s/%s/%s" % (repo, rev.replace("/", "%2F"), rel)
                return self.reply(302, extra + [("Location", loc)], b"", head)
        else:
            with open(path, "rb") as f:  # git blob id, as the hub sends for non-LFS files
                extra = [("ETag", '"%s"' % hashlib.sha1(b"blob %d\0" % size + f.read()).hexdigest())]
        self.send_file(path, rel, size, extra, head, lfs)

    def send_file(self, path, rel, size, extra, head, lfs):
        st = self.state
        start, end = 0, size - 1
        code = 200
        rng = self.headers.get("Range")
        if rng and not st.ignore_range and not head:
            r = rng.strip()
            ok = r.startswith("bytes=") and "," not in r
            if ok:
                a, _, b = r[6:].partition("-")
                try:
                    start = int(a)
                    end = int(b) if b else size - 1
                except ValueError:
                    ok = False
            if not ok or start >= size or end < start:
                return self.reply(416, [("Content-Range", "bytes */%d" % size)], b"", head)
            end = min(end, size - 1)
            code = 206
        length = end - start + 1 if size else 0
        headers = [("Content-Type", "application/octet-stream"), ("Content-Length", str(length)),
                   ("Accept-Ranges", "bytes")] + extra
        if code == 206:
            headers.append(("Content-Range", "bytes %d-%d/%d" % (start, end, size)))
        cut = None
        if not head and st.cut_after is not None and size > st.cut_after:
            with st.lock:
                if path not in st.cut_done:
                    st.cut_done.add(path)
                    cut = st.cut_after
        if head and st.hide_sizes:
            headers = [(k, v) for k, v in headers if k != "Content-Length"]
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("X-Repo-Commit", COMMIT)
        self.end_headers()
        self.logged(code)
        if head:
            return
        flip = size // 2 if (st.corrupt and lfs and start <= size // 2 <= end) else None
        sent = 0
        with open(path, "rb") as f:
            f.seek(start)
            pos = start
            while pos <= end:
                n = min(1 << 16, end - pos + 1)
                if cut is not None:
                    n = min(n, cut - sent)
                    if n <= 0:
                        break
                chunk = f.read(n)
                if not chunk:
                    break
                if flip is not None and pos <= flip < pos + len(chunk):
                    b = bytearray(chunk)
                    b[flip - pos] ^= 0xFF
                    chunk = bytes(b)
                try:
                    self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True
                    return
                pos += len(chunk)
                sent += len(chunk)
        if cut is not None:
            self.state.log("CUT %s after %d bytes" % (self.path, sent))
            try:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.close_connection = True


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", action="append", default=[], help="ID=FOLDER (repeatable)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    ap.add_argument("--max-seconds", type=float, default=300)
    ap.add_argument("--cut-after", type=int)
    ap.add_argument("--corrupt", action="store_true")
    ap.add_argument("--ignore-range", action="store_true")
    ap.add_argument("--no-redirect", action="store_true")
    ap.add_argument("--require-token")
    ap.add_argument("--gated", action="append")
    ap.add_argument("--hide-sizes", action="store_true")
    args = ap.parse_args()

    Handler.state = State(args)
    srv = Server((args.host, args.port), Handler)
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    print(port, flush=True)

    deadline = threading.Timer(args.max_seconds, srv.shutdown)
    deadline.daemon = True
    deadline.start()
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
