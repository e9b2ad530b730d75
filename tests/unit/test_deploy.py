"""The deployment files, checked without a Docker engine or a cluster.

* docker-compose.yml: `docker-compose config` (Debian's 1.29) with .env.example, then what the
  resolved file says: services, commands, one image, health checks, dependencies, pinned
  images, named volumes, no secret in the file.
* deploy/k8s/: every manifest against the Kubernetes API schemas (kubernetes-validate, offline,
  strict), the kustomization, the workloads' commands, probes, resources and security, and
  the optional KEDA ScaledObject for its shape.
* yamllint (.yamllint.yaml) on the compose file and the manifests.
* Configuration: every SOHOA_* variable the code reads is in .env.example, in the README's
  configuration table, in the containers' environment and in the Kubernetes config; every
  variable of .env.example is read by the code or used by docker-compose.yml.
* deploy/Dockerfile installs through the scripts the Makefile uses, and deploy/requirements.lock
  pins what pyproject.toml asks for, at the versions installed here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes_validate.utils import ValidationError, latest_version, validate
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from yamllint import linter
from yamllint.config import YamlLintConfig

from schemas.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
LOCK = ROOT / "deploy" / "requirements.lock"
K8S = ROOT / "deploy" / "k8s"
KEDA = K8S / "optional" / "keda-scaledobject.yaml"
SECRET_TEMPLATE = K8S / "secret.example.yaml"

#: directories whose os.environ reads of SOHOA_* count as configuration
CODE_DIRS = ("api", "worker", "store", "ocr", "classify", "cli", "schemas")
#: Kubernetes versions the manifests must be valid for: an old supported one and the newest
#: the installed kubernetes-validate knows
K8S_VERSIONS = ("1.29.0", None)

APP_SERVICES = ("migrate", "api", "worker", "beat")
ONE_SHOT = ("minio-setup", "migrate")
SERVICES = {"postgres", "redis", "minio", "minio-setup", "migrate", "api", "worker", "beat",
            "flower"}  # fmt: skip
#: settings docker-compose.yml deliberately sets unlike the embedded default
COMPOSE_OVERRIDES = {
    "SOHOA_S3_REGION": "us-east-1",  # the bundled MinIO's region
    # a deployment sits behind TLS: its session cookie is secure unless said otherwise (the
    # embedded default stays false for `sohoa serve` on a bare address)
    "SOHOA_COOKIE_SECURE": "true",
    # the reverse proxy on the host reaches the API from the compose network's gateway
    "SOHOA_TRUSTED_PROXIES": "172.30.57.1",
}
#: settings whose values in .env.example are secrets or set by docker-compose.yml
NOT_DEFAULTS = {"SOHOA_S3_ACCESS_KEY", "SOHOA_S3_SECRET_KEY", *COMPOSE_OVERRIDES}


# --- what the code reads --------------------------------------------------------------------

_ENVIRON_READ = re.compile(
    r"""(?:environ(?:\.get|\.setdefault|\.pop)?\s*[\[(]|getenv\s*\()\s*["'](SOHOA_\w+)["']"""
)


@cache
def code_variables() -> frozenset[str]:
    """The SOHOA_* variables the code reads: the settings, and direct os.environ reads."""
    prefix = str(Settings.model_config.get("env_prefix", "")).upper()
    names = {prefix + name.upper() for name in Settings.model_fields}
    for folder in CODE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            names.update(_ENVIRON_READ.findall(path.read_text(encoding="utf-8")))
    return frozenset(names)


def _default(name: str) -> str | None:
    """The embedded default of a setting, as an environment variable would spell it."""
    field = Settings.model_fields[name.removeprefix("SOHOA_").lower()]
    value = field.default
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def env_example() -> tuple[dict[str, str], set[str]]:
    """.env.example: its assignments, and the names it documents in comments (`# NAME=...`)."""
    active: dict[str, str] = {}
    commented: set[str] = set()
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if m := re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line):
            active[m[1]] = m[2]
        elif m := re.match(r"^#\s*([A-Z][A-Z0-9_]*)=", line):
            commented.add(m[1])
    return active, commented


# --- docker-compose -------------------------------------------------------------------------


def _compose(env_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.fail("docker-compose is needed (Debian's package; `make test` installs it)")
    # Only the env file speaks: variables of the calling shell must not fill the gaps.
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL")}
    return subprocess.run(
        [exe, "-f", str(COMPOSE), "--env-file", str(env_file), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def compose_config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The compose file as docker-compose resolves it with .env.example as the .env file."""
    env_file = tmp_path_factory.mktemp("compose") / ".env"
    shutil.copyfile(ENV_EXAMPLE, env_file)
    quiet = _compose(env_file, "config", "-q")
    assert quiet.returncode == 0, quiet.stderr
    full = _compose(env_file, "config")
    assert full.returncode == 0, full.stderr
    return yaml.safe_load(full.stdout)


@pytest.fixture(scope="module")
def compose_raw() -> dict[str, Any]:
    """The compose file as written (anchors merged, nothing interpolated)."""
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command", [])
    return command.split() if isinstance(command, str) else [str(c) for c in command]


def test_compose_config_passes_with_env_example(compose_config: dict[str, Any]) -> None:
    assert set(compose_config["services"]) == SERVICES
    assert "version" not in yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_compose_refuses_to_start_without_secrets(tmp_path: Path) -> None:
    empty = tmp_path / ".env"
    empty.write_text("")
    result = _compose(empty, "config", "-q")
    assert result.returncode != 0
    assert "in .env" in result.stderr  # the ${VAR:?set VAR in .env} message


def test_compose_one_image_for_the_sohoa_services(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    images = {services[name]["image"] for name in APP_SERVICES}
    assert images == {env_example()[0]["APP_IMAGE"]}
    for name in APP_SERVICES:
        build = services[name]["build"]
        assert build["dockerfile"] == "deploy/Dockerfile"
        assert Path(build["context"]).resolve() == ROOT


def test_compose_commands(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    assert _command(services["api"]) == [
        "sohoa", "serve", "--no-worker", "--no-migrate", "--host", "0.0.0.0", "--port", "8000",
    ]  # fmt: skip
    assert _command(services["worker"])[:4] == ["sohoa", "worker", "--queues", "ocr"]
    assert "--beat" not in _command(services["worker"])
    assert _command(services["beat"])[:5] == ["sohoa", "worker", "--queues", "light", "--beat"]
    assert "exec sohoa db upgrade" in " ".join(_command(services["migrate"]))
    # The worker scales with --scale worker=N: nothing in it may be unique to one container.
    for key in ("container_name", "ports", "hostname"):
        assert key not in services["worker"], key
    assert services["worker"]["environment"]["OMP_THREAD_LIMIT"] == "1"
    assert "exec celery flower" in " ".join(_command(services["flower"]))


def test_compose_health_checks_restarts_and_dependencies(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    for name, service in services.items():
        if name in ONE_SHOT:
            assert service["restart"] == "no", name
            continue
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name} has no health check"
        assert service["restart"] in ("unless-stopped", "always"), name
    for name, service in services.items():
        for dependency, how in service.get("depends_on", {}).items():
            expected = (
                "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            )
            assert how["condition"] == expected, f"{name} -> {dependency}"
    for name in ("api", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["minio-setup"]["condition"] == "service_completed_successfully"
    # The image's HEALTHCHECK is the API's; the one-shot migration must not inherit it.
    assert services["migrate"]["healthcheck"]["test"] == ["NONE"]


def test_compose_images_are_pinned(compose_config: dict[str, Any]) -> None:
    for name, service in compose_config["services"].items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and "/" not in tag, f"{name}: {image} has no tag"
        assert tag not in ("latest", "master", "main", "edge"), f"{name}: {image}"
    assert compose_config["services"]["postgres"]["image"].startswith("postgres:15")
    assert compose_config["services"]["redis"]["image"].startswith("redis:7")


def test_compose_state_lives_in_named_volumes(compose_config: dict[str, Any]) -> None:
    declared = set(compose_config.get("volumes", {}))
    for name in ("postgres", "redis", "minio"):
        volumes = compose_config["services"][name]["volumes"]
        sources = {v["source"] if isinstance(v, dict) else v.split(":")[0] for v in volumes}
        assert sources and sources <= declared, name
    assert "--appendonly yes" in " ".join(_command(compose_config["services"]["redis"]))


def test_compose_publishes_only_what_it_should(compose_config: dict[str, Any]) -> None:
    published = {name for name, s in compose_config["services"].items() if s.get("ports")}
    assert published == {"api", "flower", "minio"}
    for name in ("flower", "minio"):  # the administrator's, on this host only
        for port in compose_config["services"][name]["ports"]:
            host_ip = port.split(":")[0] if isinstance(port, str) else port.get("host_ip")
            assert host_ip == "127.0.0.1", f"{name}: {port}"


def test_compose_file_holds_no_secret(compose_raw: dict[str, Any]) -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    active, _ = env_example()
    for name, value in active.items():
        if "change-me" in value:
            assert value not in text, name
    secretish = re.compile(r"PASSWORD|SECRET|_AUTH$|ACCESS_KEY")
    for name, service in compose_raw["services"].items():
        environment = service.get("environment") or {}
        for key, value in environment.items():
            value = str(value)
            if secretish.search(key):  # required from .env, or optional and empty when unset
                assert re.fullmatch(r"\$\{[A-Z0-9_]+(:\?[^}]*|-)\}", value), f"{name}: {key}"
            # credentials inside a URL come from the .env file too
            if m := re.search(r"://([^/@]*)@", value):
                assert re.search(r"\$\{[A-Z0-9_]+:\?", m[1]), f"{name}: {key}"


def test_compose_passes_every_setting_to_sohoa(compose_config: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        environment = compose_config["services"][name]["environment"]
        missing = code_variables() - set(environment)
        assert not missing, f"{name} does not get {sorted(missing)}"


def test_compose_defaults_are_the_embedded_ones() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    defaults = dict(re.findall(r"\$\{(SOHOA_\w+):-([^}]*)\}", text))
    assert defaults, "no SOHOA_* defaults found in docker-compose.yml"
    for name, value in defaults.items():
        expected = COMPOSE_OVERRIDES.get(name, _default(name))
        assert value == expected, f"{name}: {value!r} in docker-compose.yml, default {expected!r}"


# --- .env.example and the README --------------------------------------------------------------


def test_env_example_documents_every_setting() -> None:
    active, commented = env_example()
    missing = code_variables() - set(active) - commented
    assert not missing, f".env.example does not document {sorted(missing)}"


def test_env_example_values_are_the_defaults() -> None:
    active, _ = env_example()
    for name, value in active.items():
        if name.startswith("SOHOA_") and name not in NOT_DEFAULTS:
            assert value == _default(name), f"{name}={value} in .env.example"


def test_env_example_variables_are_all_used() -> None:
    active, commented = env_example()
    used_by_compose = set(re.findall(r"\$\{([A-Z0-9_]+)", COMPOSE.read_text(encoding="utf-8")))
    unused = set(active) - code_variables() - used_by_compose
    assert not unused, f".env.example sets variables nothing reads: {sorted(unused)}"
    assert not commented - code_variables(), "commented names must be settings the code reads"


def test_env_example_secrets_are_placeholders() -> None:
    active, _ = env_example()
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", COMPOSE.read_text(encoding="utf-8")))
    assert required <= set(active), f"missing from .env.example: {sorted(required - set(active))}"
    for name in required:
        if re.search(r"PASSWORD|SECRET|AUTH", name):
            assert "change-me" in active[name], name


def test_readme_configuration_table_lists_every_setting() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Configuration\n(.*?)(?=^## |\Z)", readme, re.M | re.S)
    assert section, "README.md has no '## Configuration' section"
    rows = [line for line in section[1].splitlines() if line.startswith("|")]
    listed = {name for row in rows for name in re.findall(r"`(SOHOA_\w+)`", row.split("|")[1])}
    missing = code_variables() - listed
    assert not missing, f"README.md's configuration table misses {sorted(missing)}"


# --- the image --------------------------------------------------------------------------------


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_installs_through_the_makefile_scripts() -> None:
    runs = " ".join(rest for word, rest in _dockerfile_instructions() if word == "RUN")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for script in ("install-system.sh", "install-python.sh"):
        assert script in runs, f"the Dockerfile does not run deploy/{script}"
        assert f"deploy/{script}" in makefile, f"the Makefile does not run deploy/{script}"
        assert os.access(ROOT / "deploy" / script, os.X_OK), f"deploy/{script} not executable"
    assert "install-python.sh --image" in runs  # the lock, then the project with --no-deps
    assert re.search(r"install-python\.sh \$\(VENV\) samples", makefile)
    assert re.search(r"install-python\.sh \$\(VENV\) test", makefile)


def test_dockerfile_image() -> None:
    instructions = _dockerfile_instructions()
    froms = [rest for word, rest in instructions if word == "FROM"]
    assert len(froms) >= 2, "multi-stage"
    args = " ".join(rest for word, rest in instructions if word == "ARG")
    assert "python:3.11-slim-bookworm" in args or "python:3.11-slim-bookworm" in froms[0]
    env = " ".join(rest for word, rest in instructions if word == "ENV")
    assert "OMP_THREAD_LIMIT=1" in env
    assert "PYTHONUNBUFFERED=1" in env
    users = [rest for word, rest in instructions if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert any(word == "HEALTHCHECK" and "/healthz" in rest for word, rest in instructions)
    cmd = [rest for word, rest in instructions if word == "CMD"][-1]
    assert "--no-worker" in cmd and "--no-migrate" in cmd and "0.0.0.0" in cmd


def test_dockerignore_keeps_local_state_and_secrets_out() -> None:
    lines = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for entry in (".git", ".venv", "var", ".env", "bench/results", "**/__pycache__",
                  ".pytest_cache", ".ruff_cache", ".mypy_cache"):  # fmt: skip
        assert entry in lines, entry
    assert "tests" in lines or "tests/data" in lines


def _lock() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep and version, f"not an exact pin: {line}"
        pins[canonicalize_name(name)] = version
    return pins


def test_lock_pins_every_dependency() -> None:
    pins = _lock()
    assert "sohoa" not in pins
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for spec in project["dependencies"]:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in deploy/requirements.lock: relock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{name}=={pins[name]} does not satisfy {spec}: deploy/install-python.sh --relock"
        )


def test_installed_versions_are_the_locked_ones() -> None:
    """What the tests run on is what the image gets (make test installs with -c the lock)."""
    differ = []
    for name, version in _lock().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            differ.append(f"{name}: not installed, locked {version}")
            continue
        if installed != version:
            differ.append(f"{name}: installed {installed}, locked {version}")
    assert not differ, "run `make venv-test` (deploy/install-python.sh): " + "; ".join(differ)


# --- Kubernetes --------------------------------------------------------------------------------


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def _manifests() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def _kubernetes_versions() -> tuple[str, ...]:
    return tuple(v or f"{latest_version()}.0" for v in K8S_VERSIONS)


@pytest.mark.parametrize("path", _manifests(), ids=lambda p: p.name)
def test_k8s_manifest_is_valid(path: Path) -> None:
    docs = _documents(path)
    assert docs
    for doc in docs:
        for version in _kubernetes_versions():
            validate(doc, version, strict=True)  # raises on any schema error


def test_k8s_validation_is_real() -> None:
    deployment = _kind("Deployment", "sohoa-api")
    deployment["spec"]["replica"] = 2  # a typo strict validation must catch
    with pytest.raises(ValidationError):
        validate(deployment, _kubernetes_versions()[-1], strict=True)


def test_kustomization() -> None:
    kustomization = _documents(K8S / "kustomization.yaml")[0]
    assert kustomization["kind"] == "Kustomization"
    assert kustomization["namespace"] == "sohoa"
    resources = set(kustomization["resources"])
    for resource in resources:
        assert (K8S / resource).is_file(), resource
    expected = {p.name for p in _manifests()} - {SECRET_TEMPLATE.name}
    assert resources == expected, "every manifest but the Secret template is applied"
    assert [i["name"] for i in kustomization["images"]] == ["sohoa"]


def _all_k8s() -> list[dict[str, Any]]:
    return [doc for path in _manifests() for doc in _documents(path)]


def _kind(kind: str, name: str) -> dict[str, Any]:
    for doc in _all_k8s():
        if doc["kind"] == kind and doc["metadata"]["name"] == name:
            return doc
    raise AssertionError(f"no {kind} {name}")


def _pod(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def test_k8s_workloads() -> None:
    api = _kind("Deployment", "sohoa-api")
    assert api["spec"]["replicas"] == 2
    container = _pod(api)["containers"][0]
    assert container["command"][:4] == ["sohoa", "serve", "--no-worker", "--no-migrate"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["ports"][0]["containerPort"] == 8000
    service = _kind("Service", "sohoa-api")
    assert service["spec"]["selector"] == api["spec"]["selector"]["matchLabels"]

    worker = _kind("Deployment", "sohoa-worker")
    container = _pod(worker)["containers"][0]
    command = container["command"]
    assert command[:4] == ["sohoa", "worker", "--queues", "ocr"] and "--beat" not in command
    # one process per CPU the pod is given
    concurrency = int(command[command.index("--concurrency") + 1])
    assert concurrency == int(container["resources"]["requests"]["cpu"])

    beat = _kind("Deployment", "sohoa-beat")
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"]["type"] == "Recreate"
    assert _pod(beat)["containers"][0]["command"][:5] == [
        "sohoa", "worker", "--queues", "light", "--beat",
    ]  # fmt: skip

    job = _kind("Job", "sohoa-migrate")
    assert _pod(job)["containers"][0]["command"] == ["sohoa", "db", "upgrade"]


@pytest.mark.parametrize(
    ("kind", "name"),
    [("Deployment", "sohoa-api"), ("Deployment", "sohoa-worker"), ("Deployment", "sohoa-beat"),
     ("Job", "sohoa-migrate")],
)  # fmt: skip
def test_k8s_pods_are_locked_down(kind: str, name: str) -> None:
    pod = _pod(_kind(kind, name))
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for container in pod["containers"]:
        assert container["image"].split(":")[0] == "sohoa"  # kustomize's images: rewrites it
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        assert "emptyDir" in volumes[mounts["/tmp"]]
        for part in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][part]), (name, part)
        refs = {next(iter(ref.values()))["name"] for ref in container["envFrom"]}
        assert refs == {"sohoa-config", "sohoa-secrets"}


def test_k8s_migration_can_run_before_the_rollout() -> None:
    """deploy/README.md applies `-l 'app.kubernetes.io/component in (config,migrate)'` first:
    that must bring the Job and what its pod needs, and none of the workloads."""
    selected = {
        (doc["kind"], doc["metadata"]["name"])
        for doc in _all_k8s()
        if doc["metadata"].get("labels", {}).get("app.kubernetes.io/component")
        in ("config", "migrate")
    }
    job = _pod(_kind("Job", "sohoa-migrate"))
    assert ("Job", "sohoa-migrate") in selected
    assert ("ServiceAccount", job["serviceAccountName"]) in selected
    assert ("ConfigMap", "sohoa-config") in selected
    assert not {kind for kind, _ in selected} & {"Deployment", "Service"}


def test_k8s_configuration_covers_every_setting() -> None:
    config = set(_kind("ConfigMap", "sohoa-config")["data"])
    secret = set(_documents(SECRET_TEMPLATE)[0]["stringData"])
    assert not config & secret
    assert code_variables() <= config | secret, sorted(code_variables() - config - secret)
    assert (config | secret) - code_variables() == {"REDIS_PASSWORD"}  # for KEDA only
    for name in ("SOHOA_DATABASE_URL", "SOHOA_BROKER_URL", "SOHOA_S3_SECRET_KEY"):
        assert name in secret, f"{name} holds a secret"


def test_keda_scaled_object_shape() -> None:
    from worker.app import ocr_queue

    docs = {doc["kind"]: doc for doc in _documents(KEDA)}
    assert set(docs) == {"ScaledObject", "TriggerAuthentication"}
    for doc in docs.values():
        assert doc["apiVersion"] == "keda.sh/v1alpha1"
    scaled = docs["ScaledObject"]["spec"]
    assert scaled["scaleTargetRef"]["name"] == "sohoa-worker"
    assert scaled["minReplicaCount"] >= 1
    trigger = scaled["triggers"][0]
    assert trigger["type"] == "redis"
    queue = _kind("ConfigMap", "sohoa-config")["data"]["SOHOA_TASK_QUEUE"]
    assert trigger["metadata"]["listName"] == ocr_queue(Settings(task_queue=queue))
    assert trigger["authenticationRef"]["name"] == docs["TriggerAuthentication"]["metadata"]["name"]
    ref = docs["TriggerAuthentication"]["spec"]["secretTargetRef"][0]
    assert ref["key"] in _documents(SECRET_TEMPLATE)[0]["stringData"]


# --- yamllint ---------------------------------------------------------------------------------


def test_yamllint() -> None:
    config = YamlLintConfig(file=str(ROOT / ".yamllint.yaml"))
    files = [COMPOSE, ROOT / ".yamllint.yaml", *sorted(K8S.rglob("*.yaml"))]
    problems = [
        f"{path.relative_to(ROOT)}:{p.line}:{p.column} {p.message}"
        for path in files
        for p in linter.run(path.read_text(encoding="utf-8"), config, str(path))
    ]
    assert not problems, "\n".join(problems)
