"""Fixtures of the Redis bridge tests: a server that answers, unique names, clean-up.

Tests marked ``redis`` talk to the Redis server on 127.0.0.1:6379. When none
answers (or coredis is not installed) they are skipped, with the reason;
when the ``CI`` environment variable is set they fail instead, so that CI
never passes without having run them.

Every test gets its own prefix (``names``): streams and groups are named
under it, and every key under it is deleted afterwards.
"""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

HOST = "127.0.0.1"
PORT = 6379
URL = f"redis://{HOST}:{PORT}/0"
HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
#: The bridge's documentation examples (run by these tests: they need Redis).
EXAMPLES = REPO / "docs" / "examples" / "bridge"


def redis_answers(host: str = HOST, port: int = PORT, timeout: float = 1.0) -> str | None:
    """None when a Redis server answers PING at host:port, else why not."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            reply = sock.recv(64)
    except OSError as exc:
        return f"nothing answers on {host}:{port} ({exc})"
    if not reply.startswith(b"+PONG"):
        return f"{host}:{port} answered {reply!r} to PING, not +PONG"
    return None


def _unavailable() -> str | None:
    try:
        import coredis  # noqa: F401 - only whether it imports
    except ImportError:
        return "coredis is not installed (pip install -e '.[redis]')"
    problem = redis_answers()
    if problem is not None:
        return (
            f"no Redis server: {problem}; start one with `redis-server --daemonize yes "
            f"--bind 127.0.0.1 --port 6379 --save '' --appendonly no`"
        )
    return None


#: coredis 6.9 creates a connection's anyio memory streams before connecting
#: and closes them only once connected: every failed connection attempt (Redis
#: away) leaves streams that warn when garbage-collected.
COREDIS_LEAK = "Unclosed <MemoryObject"


@pytest.fixture(autouse=True)
def _needs_redis(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("redis") is None:
        yield
        return
    problem = _unavailable()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set, so the Redis tests must run, but {problem}", pytrace=False)
        pytest.skip(problem)
    yield
    # Collect the leaked streams now, quietly, rather than in a later test
    # (where warnings are errors).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", COREDIS_LEAK, ResourceWarning)
        gc.collect()


@pytest.fixture(autouse=True)
def _forget_example_modules() -> Iterator[None]:
    """Tests import the documentation's modules by bare name: forget them afterwards
    (another test may have a module of the same name on its own path)."""
    yield
    for name, module in list(sys.modules.items()):
        if Path(getattr(module, "__file__", None) or "/").parent == EXAMPLES:
            del sys.modules[name]


class Names:
    """Unique stream and group names for one test; its keys are deleted after it."""

    def __init__(self) -> None:
        self.prefix = f"eventbus-test:{uuid.uuid4().hex[:12]}"

    def __call__(self, what: str) -> str:
        return f"{self.prefix}:{what}"


@pytest.fixture
async def names() -> AsyncIterator[Names]:
    found = Names()
    yield found
    import coredis

    async with coredis.Redis.from_url(URL) as client:
        keys = [key async for key in client.scan_iter(match=f"{found.prefix}:*")]
        if keys:
            await client.delete(keys)


@pytest.fixture
async def client() -> AsyncIterator[object]:
    """A coredis client of the shared server, for checks and raw entries."""
    import coredis

    async with coredis.Redis.from_url(URL) as redis:
        yield redis


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class PrivateRedis:
    """A redis-server of this test's own, with an append-only file: it can restart."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://{HOST}:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        executable = shutil.which("redis-server")
        assert executable is not None
        self.process = subprocess.Popen(
            [
                executable,
                "--bind",
                HOST,
                "--port",
                str(self.port),
                "--dir",
                str(self.directory),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while redis_answers(HOST, self.port, timeout=0.2) is not None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)

    def stop(self) -> None:
        """SIGTERM: Redis flushes the append-only file and exits."""
        process, self.process = self.process, None
        if process is not None:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        message = "redis-server is not installed: this test starts a server of its own"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop()


def _cluster_ports(count: int) -> list[int]:
    """Ports p free with their cluster bus port p + 10000 free too."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port + 10000 > 65535 or port in ports:
            continue
        with socket.socket() as sock:
            try:
                sock.bind((HOST, port + 10000))
            except OSError:
                continue
        ports.append(port)
    return ports


class PrivateCluster:
    """Three redis-server cluster nodes (no replicas) of this test's own."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.ports = _cluster_ports(3)
        self.url = f"redis://{HOST}:{self.ports[0]}/0"
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
        assert server is not None
        assert cli is not None
        for port in self.ports:
            node = self.directory / str(port)
            node.mkdir()
            self.processes.append(
                subprocess.Popen(
                    [
                        *(server, "--bind", HOST, "--port", str(port)),
                        *("--cluster-enabled", "yes", "--save", "", "--appendonly", "no"),
                    ],
                    cwd=node,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        deadline = time.monotonic() + 10
        for port in self.ports:
            while redis_answers(HOST, port, timeout=0.2) is not None:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"cluster node on port {port} did not start")
                time.sleep(0.02)
        nodes = [f"{HOST}:{port}" for port in self.ports]
        subprocess.run(
            [cli, "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
        )
        for port in self.ports:
            while (
                b"cluster_state:ok"
                not in subprocess.run(
                    [cli, "-p", str(port), "cluster", "info"], capture_output=True, check=True
                ).stdout
            ):
                if time.monotonic() > deadline + 20:
                    raise RuntimeError("the cluster did not come up")
                time.sleep(0.05)

    def stop(self) -> None:
        for process in self.processes:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def private_cluster(tmp_path: Path) -> Iterator[PrivateCluster]:
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        message = "redis-server or redis-cli is not installed: this test starts a cluster"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    cluster = PrivateCluster(tmp_path)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def peer_command(*args: str) -> list[str]:
    """The command line of ``redis_peer.py`` (a bus with a bridge, in another process)."""
    return [sys.executable, "-u", str(HERE / "redis_peer.py"), *args]


def peer_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), str(HERE), str(EXAMPLES), env.get("PYTHONPATH", "")) if p
    )
    env["EVENTBUS_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return env
