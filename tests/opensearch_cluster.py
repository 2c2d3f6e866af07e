"""Real OpenSearch nodes on this machine, for tests and benchmarks.

Each node is a JVM running tools/opensearch-node (built by `make opensearch-node`), bound to
127.0.0.1 on ports picked here, with its data and logs under the cluster's base directory:
`<base>/<node>/` is the node's home (its OpenSearch log in `logs/`), `<base>/<node>.out` the JVM's
own output. A JVM never outlives its cluster: `stop()` runs at interpreter exit, and on Linux a
node gets SIGTERM when the Python process that started it dies.

    cluster = OpenSearchCluster(tmp_path, nodes=3).start()
    OpenSearch(cluster.urls)...
    cluster.stop_node(2); cluster.wait_for("yellow", nodes=2); cluster.start_node(2)
    cluster.stop()
"""

from __future__ import annotations

import atexit
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "tools" / "opensearch-node" / "target"
JAR = TARGET / "opensearch-node.jar"
# The JVM's class-data archive, written by `make opensearch-node`: starts take half the time.
ARCHIVE = TARGET / "opensearch-node.jsa"
# 512 MB of heap is plenty for test indexes; one GC thread and C1 only keep a node's start from
# taking both of the machine's cores. A benchmark that wants steady-state speed can pass its own.
JVM_OPTIONS = ("-Xmx512m", "-Xms256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")

_STATUS_RANK = {"red": 0, "yellow": 1, "green": 2}


class OpenSearchError(RuntimeError):
    """A node did not start, stop or reach the awaited state; the message quotes its log."""


def available() -> str | None:
    """None when nodes can be started here, else the reason why not (for `pytest.skip`)."""
    if shutil.which("java") is None:
        return "java not found: the OpenSearch tests need a JDK 17 (and Maven, for `make opensearch-node`)"
    if not (JAR.is_file() and (TARGET / "lib").is_dir()):
        return "OpenSearch launcher not built: run `make opensearch-node`"
    return None


def free_ports(count: int) -> list[int]:
    """Ports free on 127.0.0.1 now, all different (held open together while they are picked)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the parent dies (Linux prctl PR_SET_PDEATHSIG)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1


@dataclass
class _Node:
    name: str
    http_port: int
    transport_port: int
    home: Path
    out: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return f"({path} does not exist)"
    return "\n".join(text.splitlines()[-lines:])


class OpenSearchCluster:
    """A cluster of `nodes` OpenSearch nodes on 127.0.0.1; every node holds data and may be elected."""

    def __init__(
        self,
        base_dir: str | os.PathLike,
        nodes: int = 1,
        name: str = "vnsearch-test",
        jvm_options: tuple[str, ...] | list[str] = JVM_OPTIONS,
        settings: dict[str, str] | None = None,
    ):
        if nodes < 1:
            raise ValueError("a cluster needs at least one node")
        self.base_dir = Path(base_dir)
        self.name = name
        self.jvm_options = list(jvm_options)
        self.settings = dict(settings or {})
        self.nodes = [
            _Node(name=f"{name}-{i}", http_port=0, transport_port=0,
                  home=self.base_dir / f"{name}-{i}", out=self.base_dir / f"{name}-{i}.out")
            for i in range(nodes)
        ]
        # Picked once: a node started again keeps its ports, which the others know it by.
        self._pick_ports()

    # -- addresses ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The first node's HTTP address."""
        return self.nodes[0].url

    @property
    def urls(self) -> list[str]:
        """Every node's HTTP address, stopped ones included."""
        return [node.url for node in self.nodes]

    def running_urls(self) -> list[str]:
        """The HTTP addresses of the nodes whose JVM is running."""
        return [node.url for node in self.nodes if node.running()]

    # -- life cycle ----------------------------------------------------------------------------

    def start(self, timeout: float = 180.0) -> OpenSearchCluster:
        """Start every node at once; return when the cluster has them all and is green or yellow."""
        reason = available()
        if reason:
            raise OpenSearchError(reason)
        self.base_dir.mkdir(parents=True, exist_ok=True)
        _LIVE.add(self)
        for attempt in range(3):
            for node in self.nodes:
                self._spawn(node)
            try:
                self.wait_for("yellow", nodes=len(self.nodes), timeout=timeout)
                return self
            except OpenSearchError as error:
                self.stop()
                # Another program took a port between free_ports() and the JVM's bind: new ports.
                if attempt == 2 or "Address already in use" not in str(error):
                    raise
                self._pick_ports()
            except BaseException:
                self.stop()
                raise
        raise AssertionError("unreachable")

    def _pick_ports(self) -> None:
        ports = free_ports(2 * len(self.nodes))
        for i, node in enumerate(self.nodes):
            node.http_port, node.transport_port = ports[2 * i], ports[2 * i + 1]

    def start_node(self, i: int, timeout: float = 120.0) -> None:
        """Start node `i` again (same ports, same data); return once the cluster has it back."""
        node = self.nodes[i]
        if node.running():
            return
        _LIVE.add(self)
        self._spawn(node)
        self.wait_for("red", nodes=sum(n.running() for n in self.nodes), timeout=timeout)

    def stop_node(self, i: int, timeout: float = 30.0) -> None:
        """Stop node `i`: SIGTERM (it closes cleanly), SIGKILL if it is still there after `timeout`."""
        node = self.nodes[i]
        if node.process is None:
            return
        process, node.process = node.process, None
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop every node: all get SIGTERM together, then any still running after `timeout` is killed."""
        _LIVE.discard(self)
        processes = [node.process for node in self.nodes if node.process is not None]
        for node in self.nodes:
            node.process = None
        for process in processes:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + timeout
        for process in processes:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def __enter__(self) -> OpenSearchCluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _spawn(self, node: _Node) -> None:
        names = [n.name for n in self.nodes]
        command = [shutil.which("java") or "java", *self.jvm_options]
        if ARCHIVE.is_file():
            command.append(f"-XX:SharedArchiveFile={ARCHIVE}")
        command += ["-jar", str(JAR), "--home", str(node.home), "--cluster-name", self.name,
                    "--node-name", node.name, "--http-port", str(node.http_port),
                    "--transport-port", str(node.transport_port)]
        if len(self.nodes) > 1:
            command += ["--seed-hosts", ",".join(f"127.0.0.1:{n.transport_port}" for n in self.nodes),
                        "--initial-masters", ",".join(names)]
        for key, value in self.settings.items():
            command += ["--setting", f"{key}={value}"]
        with open(node.out, "ab") as out:
            out.write(f"\n=== {time.strftime('%H:%M:%S')} {' '.join(command)}\n".encode())
            out.flush()
            node.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.base_dir,
                # Its own process group: a Ctrl-C in the terminal reaches pytest, whose teardown
                # stops the nodes, rather than every JVM at once.
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )

    # -- state ---------------------------------------------------------------------------------

    def health(self, url: str | None = None) -> dict:
        """GET /_cluster/health from `url` (default: the first running node)."""
        url = url or next(iter(self.running_urls()), self.url)
        with urllib.request.urlopen(f"{url}/_cluster/health", timeout=10) as response:
            return json.load(response)

    def wait_for(self, status: str = "yellow", nodes: int | None = None, timeout: float = 120.0) -> dict:
        """Wait until the cluster is at least `status` with exactly `nodes` nodes (default: all running)."""
        want = _STATUS_RANK[status]
        deadline = time.monotonic() + timeout
        last: object = "no answer yet"
        while True:
            for node in self.nodes:
                if node.process is not None and node.process.poll() is not None:
                    code = node.process.returncode
                    node.process = None
                    raise OpenSearchError(
                        f"OpenSearch node {node.name} exited with code {code}; its output "
                        f"({node.out}):\n{_tail(node.out)}\nits log:\n{self._log_tail(node)}")
            expected = nodes if nodes is not None else sum(n.running() for n in self.nodes)
            for url in self.running_urls():
                try:
                    health = self.health(url)
                except (urllib.error.URLError, OSError, ValueError) as error:
                    last = error
                    continue
                last = health
                if health["number_of_nodes"] == expected and _STATUS_RANK[health["status"]] >= want:
                    return health
                break
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {n.name}:\n{_tail(n.out, 10)}\n{self._log_tail(n, 10)}" for n in self.nodes)
                raise OpenSearchError(
                    f"cluster {self.name} not {status} with {expected} node(s) after {timeout:.0f}s "
                    f"(last health: {last})\n{logs}")
            time.sleep(0.25)

    def _log_tail(self, node: _Node, lines: int = 30) -> str:
        return _tail(node.home / "logs" / f"{self.name}.log", lines)


# Every cluster started and not stopped; stopped at interpreter exit, so no JVM is left behind
# by a test run that forgot to, or was interrupted before, its teardown.
_LIVE: set[OpenSearchCluster] = set()


@atexit.register
def _stop_all() -> None:
    for cluster in list(_LIVE):
        cluster.stop(timeout=10)
