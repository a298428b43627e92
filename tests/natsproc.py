"""NATS servers with JetStream of the test's own, on free ports: one node, or a cluster of three
whose nodes the test kills and restarts (never the machine's NATS)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.serverproc import free_port


def nats_server_binary() -> str | None:
    return shutil.which("nats-server") or next(
        (p for p in ("/usr/sbin/nats-server", "/usr/bin/nats-server") if Path(p).exists()), None
    )


class NatsNode:
    def __init__(self, folder: Path, name: str, *, cluster_port: int | None = None) -> None:
        self.folder = folder
        self.name = name
        self.port = free_port()
        self.cluster_port = cluster_port
        self.routes: list[int] = []
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def _config(self) -> Path:
        lines = [
            f'server_name: "{self.name}"',
            f"listen: 127.0.0.1:{self.port}",
            "jetstream {",
            f'  store_dir: "{self.folder / "js"}"',
            "  max_memory_store: 64MB",
            "  max_file_store: 256MB",
            "}",
        ]
        if self.cluster_port is not None:
            routes = ", ".join(f"nats-route://127.0.0.1:{p}" for p in self.routes if p != self.cluster_port)
            lines += [
                "cluster {",
                '  name: "helixdesk-test"',
                f"  listen: 127.0.0.1:{self.cluster_port}",
                f"  routes: [{routes}]",
                "}",
            ]
        path = self.folder / "nats.conf"
        path.write_text("\n".join(lines) + "\n")
        return path

    def start(self) -> NatsNode:
        binary = nats_server_binary()
        if binary is None:
            raise RuntimeError("nats-server is not installed (Debian package nats-server)")
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / "server.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [binary, "-c", str(self._config())], stdout=subprocess.DEVNULL, stderr=log
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"nats-server {self.name} did not start; see {self.folder / 'server.log'}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class NatsCluster:
    """Three JetStream nodes routed to each other on loopback."""

    def __init__(self, folder: Path, size: int = 3) -> None:
        ports = [free_port() for _ in range(size)]
        self.nodes = [NatsNode(folder / f"n{i}", f"n{i}", cluster_port=ports[i]) for i in range(size)]
        for node in self.nodes:
            node.routes = ports

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes]

    def node(self, name: str) -> NatsNode:
        return next(n for n in self.nodes if n.name == name)

    def start(self) -> NatsCluster:
        for node in self.nodes:
            node.start()
        return self

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
