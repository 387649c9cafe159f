"""The local cluster's compute segment: a network namespace for Spark, and a mount namespace per process.

The Spark master, its workers (and so every executor) and a promoted job's run process live in one
network namespace joined to this machine by a veth pair: ``10.213.N.2`` inside, ``10.213.N.1`` on the
machine's side. Inside there is no route anywhere else, so nothing off the machine is reachable, and
the machine's loopback servers (the metadata store, the API) are not on the namespace's loopback.
A firewall chain on the machine's end of the pair admits, from inside, only the ports the drivers
outside listen on (the gate's and the quality runs', ``SANDBOX_SPARK_DRIVER_PORT`` onwards) and
replies to what the machine opened. Whatever else listens on every interface here is dropped, and
nothing from inside is forwarded, even should a process there give itself a route.

Each Spark process also runs in bubblewrap with every capability dropped. It sees the filesystem
read-only and the home hidden, except the raw zone (read-only) and the zones the cluster's work
writes: staging (a run's frames), the release register (the gate) and the tickets zone (a quality
run's failing keys). The secrets, the products, the uploads and the metadata store's files are not
in its filesystem.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sandbox.cluster.store import ClusterError
from sandbox.engines.spark import DRIVER_PORT_RETRIES

if TYPE_CHECKING:
    from sandbox.cluster.topology import Cluster

#: Ports a driver outside the namespace may take, from its first: its RPC port and block manager port,
#: each with its retries (a gate and a quality run at once on one machine).
DRIVER_PORTS = 2 * (DRIVER_PORT_RETRIES + 1)
#: Zones the cluster's processes may write: a run's frames, the gate's register, a quality run's keys.
WRITABLE_ZONES = ("staging", "register", "tickets")
READABLE_ZONES = ("raw",)


@dataclass(frozen=True)
class Segment:
    """Names and addresses of one cluster's segment (``index``: the cluster's port offset)."""

    index: int
    driver_port: int

    @property
    def namespace(self) -> str:
        return f"shuyu-c{self.index}"

    @property
    def host_link(self) -> str:
        return f"shy{self.index}h"

    @property
    def inner_link(self) -> str:
        return f"shy{self.index}n"

    @property
    def host_address(self) -> str:
        return f"10.213.{self.index % 256}.1"

    @property
    def inner_address(self) -> str:
        return f"10.213.{self.index % 256}.2"

    @property
    def chain(self) -> str:
        return f"SHUYU-C{self.index}"


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if check and done.returncode != 0:
        raise ClusterError(
            f"无法建立计算网段：{' '.join(argv)}：{done.stderr.strip()}",
            f"cannot set up the compute segment: {' '.join(argv)}: {done.stderr.strip()}",
        )
    return done


def available() -> bool:
    return os.geteuid() == 0 and all(shutil.which(t) for t in ("ip", "iptables", "bwrap"))


def ready(cluster: Cluster) -> bool:
    """The namespace exists with its link up and the firewall chain is in place."""
    segment = cluster.segment
    if not available():
        return False
    namespaces = _run("ip", "netns", "list", check=False).stdout.split()
    if segment.namespace not in namespaces:
        return False
    link = _run(
        "ip", "netns", "exec", segment.namespace, "ip", "-o", "addr", "show", segment.inner_link, check=False
    )
    jump = _run("iptables", "-C", "INPUT", "-i", segment.host_link, "-j", segment.chain, check=False)
    return segment.inner_address in link.stdout and jump.returncode == 0


def prepare(cluster: Cluster) -> None:
    """Create the namespace, its link and the firewall chain; what exists already is made anew."""
    if not available():
        raise ClusterError(
            "本机集群的计算网段需要 root 权限以及 ip、iptables 与 bubblewrap",
            "the local cluster's compute segment needs root, ip, iptables and bubblewrap",
        )
    remove(cluster)
    for zone in (*READABLE_ZONES, *WRITABLE_ZONES):  # bound into every Spark process: they must exist
        (cluster.home / zone).mkdir(parents=True, exist_ok=True, mode=0o700)
    s = cluster.segment
    _run("ip", "netns", "add", s.namespace)
    _run("ip", "link", "add", s.host_link, "type", "veth", "peer", "name", s.inner_link)
    _run("ip", "link", "set", s.inner_link, "netns", s.namespace)
    _run("ip", "addr", "add", f"{s.host_address}/30", "dev", s.host_link)
    _run("ip", "link", "set", s.host_link, "up")
    inside = ("ip", "netns", "exec", s.namespace)
    _run(*inside, "ip", "addr", "add", f"{s.inner_address}/30", "dev", s.inner_link)
    _run(*inside, "ip", "link", "set", s.inner_link, "up")
    _run(*inside, "ip", "link", "set", "lo", "up")
    _run("iptables", "-N", s.chain)
    _run("iptables", "-A", s.chain, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT")
    last = s.driver_port + DRIVER_PORTS - 1
    _run("iptables", "-A", s.chain, "-p", "tcp", "-d", s.host_address, "--dport", f"{s.driver_port}:{last}",
         "-j", "ACCEPT")  # fmt: skip
    _run("iptables", "-A", s.chain, "-j", "DROP")
    _run("iptables", "-I", "INPUT", "-i", s.host_link, "-j", s.chain)
    # Nothing from the segment is routed on, should a process inside ever give itself a route out
    _run("iptables", "-I", "FORWARD", "-i", s.host_link, "-j", "DROP")


def remove(cluster: Cluster) -> None:
    """Remove the namespace (its processes must have ended), the link and the chain; nothing if absent."""
    s = cluster.segment
    while _run("iptables", "-D", "INPUT", "-i", s.host_link, "-j", s.chain, check=False).returncode == 0:
        continue
    while _run("iptables", "-D", "FORWARD", "-i", s.host_link, "-j", "DROP", check=False).returncode == 0:
        continue
    _run("iptables", "-F", s.chain, check=False)
    _run("iptables", "-X", s.chain, check=False)
    _run("ip", "link", "del", s.host_link, check=False)  # takes its peer inside with it
    _run("ip", "netns", "del", s.namespace, check=False)


def _hidden_credentials() -> list[str]:
    """The CLI's saved sign-ins on this machine (``cli.remote.config_dir``), hidden like the home."""
    from sandbox.cli.remote import config_dir

    found = config_dir()
    return ["--tmpfs", str(found)] if found.is_dir() else []


def confined(cluster: Cluster, work_dir: str, argv: list[str]) -> list[str]:
    """``argv`` inside the segment: its network namespace, and a bubblewrap mount namespace that shows the
    filesystem read-only with the home hidden but for the zones the cluster's work needs and the Spark
    processes' scratch (writable: ``work_dir``, this process's own, beside the others', since executors on
    one host read each other's shuffle files from disk), and a /tmp of its own (native libraries unpack
    there); no capabilities."""
    home = cluster.home
    scratch = str(Path(work_dir).parent)
    binds = [arg for zone in READABLE_ZONES for arg in ("--ro-bind", str(home / zone), str(home / zone))]
    binds += [arg for zone in WRITABLE_ZONES for arg in ("--bind", str(home / zone), str(home / zone))]
    return [
        "ip", "netns", "exec", cluster.segment.namespace,
        "bwrap", "--ro-bind", "/", "/", "--dev-bind", "/dev", "/dev", "--proc", "/proc",
        "--tmpfs", "/tmp", "--tmpfs", str(home), *_hidden_credentials(), *binds, "--bind", scratch, scratch,
        "--setenv", "SPARK_LOCAL_IP", cluster.segment.inner_address, "--setenv", "TMPDIR", work_dir,
        "--setenv", "SPARK_LOCAL_DIRS", work_dir,
        "--cap-drop", "ALL", "--", *argv,
    ]  # fmt: skip
