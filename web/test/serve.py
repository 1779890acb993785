#!/usr/bin/env python3
"""A static server for the demo page and browser tests, until `seam serve --web DIR` exists.

    python3 web/test/serve.py --web build/web --models ../shared/fixtures [--port 0]

Serves WEB at / and MODELS at /models/, on 127.0.0.1 only, with the headers that make a
page cross-origin isolated (COOP + COEP, so SharedArrayBuffer and the pthreads build work)
and the .wasm MIME type streaming compilation needs. Prints `port N` once listening.
Counts requests and body bytes per path for the cache test: GET /__stats returns them as
JSON, POST /__reset clears them. Stdlib only."""
import argparse
import json
import os
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

STATS = {}
LOCK = threading.Lock()


def make_handler(web_root, models_root):
    class Handler(SimpleHTTPRequestHandler):
        extensions_map = {
            **SimpleHTTPRequestHandler.extensions_map,
            ".wasm": "application/wasm",
            ".mjs": "text/javascript",
            ".js": "text/javascript",
            ".json": "application/json",
            ".safetensors": "application/octet-stream",
            ".txt": "text/plain; charset=utf-8",
        }

        def translate_path(self, path):
            path = path.split("?", 1)[0].split("#", 1)[0]
            if path.startswith("/models/"):
                root, rest = models_root, path[len("/models/"):]
            else:
                root, rest = web_root, path.lstrip("/")
            # Refuse anything that climbs out of the root.
            full = os.path.realpath(os.path.join(root, rest))
            if full != os.path.realpath(root) and not full.startswith(os.path.realpath(root) + os.sep):
                return os.path.join(root, "__nope__")
            return full

        def end_headers(self):
            # ?noiso=1 on a page leaves the isolation out: the one-thread fallback's test.
            if "noiso=1" not in self.path:
                self.send_header("Cross-Origin-Opener-Policy", "same-origin")
                self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
            self.send_header("Cross-Origin-Resource-Policy", "same-origin")
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def do_GET(self):
            if self.path == "/__stats":
                with LOCK:
                    body = json.dumps(STATS).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            path = self.path.split("?", 1)[0]
            full = self.translate_path(self.path)
            size = os.path.getsize(full) if os.path.isfile(full) else 0
            with LOCK:
                s = STATS.setdefault(path, {"requests": 0, "bytes": 0})
                s["requests"] += 1
                s["bytes"] += size
            super().do_GET()

        def do_POST(self):
            if self.path == "/__reset":
                with LOCK:
                    STATS.clear()
                self.send_response(204)
                self.end_headers()
                return
            self.send_error(404)

        def log_message(self, fmt, *args):
            if os.environ.get("SEAM_SERVE_LOG"):
                sys.stderr.write("serve: " + (fmt % args) + "\n")

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--web", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), make_handler(a.web, a.models))
    srv.daemon_threads = True
    print(f"port {srv.server_address[1]}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
