"""``deploy/compose.yaml`` and ``deploy/k8s``: the production topology as containers and as Kubernetes
manifests, read by Compose and kubectl where they are installed, and checked for what they promise.

No container or pod starts here (this machine has a docker CLI but no daemon, and no Kubernetes): what
is checked is what the files say. The segmentation claims are checked by evaluating the files'
own rules: Compose's networks, and the NetworkPolicies as Kubernetes would apply them to pod labels.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from sandbox.cluster.network import WRITABLE_ZONES
from sandbox.cluster.topology import PIECES

DEPLOY = Path(__file__).parents[2] / "deploy"
#: What the cluster's executors write: the local cluster's segment binds the same (cluster.network).
WRITTEN = WRITABLE_ZONES
PASSWORD = {"SHUYU_STORE_PASSWORD": "s3cret-for-the-test"}
#: The topology's pieces as Compose names them (deploy/local-cluster's, plus Ray and the one-shot step).
SERVICES = {"store", "prepare", "spark-master", "spark-worker-1", "spark-worker-2", "ray-head", "ray-worker",
            "worker", "api"}  # fmt: skip


def _compose_command() -> list[str] | None:
    if (
        shutil.which("docker")
        and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0
    ):
        return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


@pytest.fixture(scope="module")
def compose() -> dict:
    """The file as Compose resolves it (anchors, merges, interpolation), or as YAML where no Compose exists."""
    command = _compose_command()
    if command is None:
        return yaml.safe_load(
            (DEPLOY / "compose.yaml").read_text().replace("${SHUYU_STORE_PASSWORD:?set SHUYU_STORE_PASSWORD}",
                                                          PASSWORD["SHUYU_STORE_PASSWORD"])
        )  # fmt: skip
    done = subprocess.run([*command, "-f", str(DEPLOY / "compose.yaml"), "config"], capture_output=True, text=True,
                          env={**os.environ, **PASSWORD}, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


@pytest.mark.skipif(
    _compose_command() is None, reason="neither `docker compose` nor docker-compose is installed"
)
def test_compose_reads_the_file_and_refuses_it_without_the_store_password():
    command = _compose_command()
    env = {k: v for k, v in os.environ.items() if k != "SHUYU_STORE_PASSWORD"}
    done = subprocess.run([*command, "-f", str(DEPLOY / "compose.yaml"), "config"], capture_output=True, text=True,
                          env=env, timeout=60)  # fmt: skip
    assert done.returncode != 0 and "set SHUYU_STORE_PASSWORD" in done.stderr


def test_compose_describes_the_local_cluster_s_pieces_and_ray(compose):
    services = compose["services"]
    assert set(services) == SERVICES
    local = {p.name for p in PIECES} - {"postgres", "compute-network"}  # Compose's: store, its networks
    assert local <= set(services)  # the same topology as deploy/local-cluster, piece by piece
    assert services["worker"]["depends_on"]["prepare"]["condition"] == "service_completed_successfully"
    assert services["api"]["depends_on"]["prepare"]["condition"] == "service_completed_successfully"
    for name in ("store", "spark-master", "api"):
        assert services[name]["healthcheck"]["test"], name


def test_shuyu_s_containers_are_configured_through_sandbox_variables_only(compose):
    for name, service in compose["services"].items():
        env = service.get("environment") or {}
        if service.get("image", "").startswith("postgres"):
            assert set(env) <= {"POSTGRES_USER", "POSTGRES_DB", "POSTGRES_PASSWORD"}
        elif name.startswith("ray-"):  # Ray's own nodes take Ray's own token settings
            assert set(env) == {"RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH"}
        else:
            assert all(key.startswith("SANDBOX_") for key in env), (name, env)
    worker = compose["services"]["worker"]["environment"]
    assert worker["SANDBOX_SPARK_MASTER"] == "spark://spark-master:7077"
    assert worker["SANDBOX_SPARK_DRIVER_HOST"] == "worker"
    assert "s3cret-for-the-test" in worker["SANDBOX_DATABASE_URL"]  # interpolated, never written in the file
    assert "s3cret" not in (DEPLOY / "compose.yaml").read_text()


def _mount(volume: str | dict) -> tuple[str, str, bool]:
    """(source, target, read-only) of a mount in Compose's short form (v1's output) or long form (v2's)."""
    if isinstance(volume, dict):
        return volume["source"], volume["target"], volume.get("read_only", False)
    source, target, *mode = volume.split(":")
    return source, target, mode == ["ro"]


def _networks(service: dict) -> set[str]:
    networks = service.get("networks") or {}
    return set(networks)


def test_compose_segments_the_executors_from_the_store_the_api_and_the_internet(compose):
    services, networks = compose["services"], compose["networks"]
    executors = ("spark-worker-1", "spark-worker-2")

    def reachable(a: str, b: str) -> bool:
        return bool(_networks(services[a]) & _networks(services[b]))

    for executor in executors:
        assert _networks(services[executor]) == {"compute"}
        for other in ("store", "api", "ray-head", "ray-worker", "prepare"):
            assert not reachable(executor, other), (executor, other)
        assert reachable(executor, "spark-master") and reachable(executor, "worker")
        mounts = services[executor]["volumes"]
        assert set(map(_mount, mounts)) == {("raw", "/srv/shuyu/raw", True)} | {
            (zone, f"/srv/shuyu/{zone}", False) for zone in WRITTEN}  # fmt: skip
        assert "secrets" not in services[executor]
    assert all(networks[n].get("internal") for n in ("metadata", "compute", "samples"))  # no way out
    assert _networks(services["store"]) == {"metadata"}
    published = [p for s in services.values() for p in s.get("ports", [])]
    assert [_published(p) for p in published] == [("127.0.0.1", "8000")]  # the API, on loopback


def _published(port: str | dict) -> tuple[str, str]:
    if isinstance(port, dict):
        return port["host_ip"], str(port["published"])
    host, published, _target = port.split(":")
    return host, published


# -- Kubernetes --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def manifests() -> list[dict]:
    """``kubectl kustomize deploy/k8s`` where kubectl exists, else the files the kustomization lists."""
    if shutil.which("kubectl"):
        done = subprocess.run(["kubectl", "kustomize", str(DEPLOY / "k8s")], capture_output=True, text=True,
                              timeout=60)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return [d for d in yaml.safe_load_all(done.stdout) if d]
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    found = [
        d
        for f in kustomization["resources"]
        for d in yaml.safe_load_all((DEPLOY / "k8s" / f).read_text())
        if d
    ]
    for document in found:  # what kustomize does with the kustomization's namespace
        if document["kind"] != "Namespace":
            document["metadata"]["namespace"] = kustomization["namespace"]
    return found


def _pods(manifests: list[dict]) -> dict[str, dict]:
    """Pod templates by their ``app`` label."""
    return {
        m["spec"]["template"]["metadata"]["labels"]["app"]: m["spec"]["template"]
        for m in manifests
        if m["kind"] in ("Deployment", "StatefulSet", "Job")
    }


def _selects(selector: dict, labels: dict) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        assert expression["operator"] == "In", expression  # the only operator the manifests use
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def _peer_admits(peers: list[dict], labels: dict) -> bool:
    """A rule's from/to list admits a pod of this namespace with ``labels`` (a missing list admits all)."""
    if peers is None:
        return True
    return any("namespaceSelector" not in p and "ipBlock" not in p and _selects(p["podSelector"], labels)
               for p in peers)  # fmt: skip


def _allows(policies: list[dict], direction: str, pod: dict, peer: dict) -> bool:
    """Kubernetes' rule: a pod selected by any policy of this direction is isolated in it, and then only
    what one of those policies' rules admits passes."""
    key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    selecting = [
        p
        for p in policies
        if direction in p["spec"]["policyTypes"] and _selects(p["spec"]["podSelector"], pod)
    ]
    if not selecting:
        return True
    return any(
        _peer_admits(rule.get(peers_key), peer) for p in selecting for rule in p["spec"].get(key) or []
    )


def _can_connect(policies: list[dict], a: dict, b: dict) -> bool:
    return _allows(policies, "Egress", a, b) and _allows(policies, "Ingress", b, a)


def test_the_namespace_denies_by_default_and_its_executors_reach_only_spark_and_the_driver(manifests):
    policies = [m for m in manifests if m["kind"] == "NetworkPolicy"]
    deny = next(p for p in policies if p["metadata"]["name"] == "default-deny")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    assert {m["metadata"].get("namespace") for m in manifests if m["kind"] != "Namespace"} == {"shuyu"}

    labels = {app: pod["metadata"]["labels"] for app, pod in _pods(manifests).items()}
    executor = labels["spark-worker"]
    for forbidden in ("store", "api", "ray-head", "ray-worker", "prepare"):
        assert not _can_connect(policies, executor, labels[forbidden]), forbidden
    for allowed in ("spark-master", "worker", "spark-worker"):
        assert _can_connect(policies, executor, labels[allowed]), allowed
    outside = {"app": "anything-outside"}  # an address off the namespace: only the cluster's DNS is admitted
    assert not _allows(policies, "Egress", executor, outside)
    for platform in ("api", "worker", "prepare"):
        assert _can_connect(policies, labels[platform], labels["store"]), platform
    assert not _can_connect(policies, labels["api"], labels["spark-master"])
    assert not _can_connect(policies, labels["ray-worker"], labels["store"])


def test_executors_mount_raw_read_only_and_the_zones_they_write_and_no_home_or_secret(manifests):
    pods = _pods(manifests)
    for app in (
        "spark-worker",
        "spark-master",
        "ray-head",
        "ray-worker",
        "api",
        "worker",
        "prepare",
        "store",
    ):
        assert pods[app]["spec"]["automountServiceAccountToken"] is False, app
    executor = pods["spark-worker"]["spec"]
    claims = {(v["name"], v["persistentVolumeClaim"]["claimName"]) for v in executor["volumes"]}
    assert claims == {(zone, zone) for zone in ("raw", *WRITTEN)}
    (container,) = executor["containers"]
    assert {(m["mountPath"], m.get("readOnly", False)) for m in container["volumeMounts"]} == {
        ("/srv/shuyu/raw", True)} | {(f"/srv/shuyu/{zone}", False) for zone in WRITTEN}  # fmt: skip
    assert "env" not in container
    for app in ("api", "worker", "prepare"):
        for container in pods[app]["spec"]["containers"]:
            assert all(e["name"].startswith("SANDBOX_") for e in container.get("env", [])), app
