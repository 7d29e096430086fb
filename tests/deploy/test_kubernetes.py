"""deploy/kubernetes: every manifest is valid against the Kubernetes API schemas (shipped with
kubernetes-validate, so this runs offline), listed by the kustomization, and consistent with
the image and the app it runs: probe paths the app serves, the configured port, the image's
user, commands the CLI has, and the Secret holding what must stay secret."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import kubernetes_validate
import pytest
import typer
import yaml

from accessplane.cli import app as cli

ROOT = Path(__file__).parent.parent.parent
MANIFESTS = ROOT / "deploy" / "kubernetes"
# The oldest Kubernetes release still in common support, and the newest the schemas know.
VERSIONS = ["1.29.0", kubernetes_validate.utils.latest_version()]
SECRET_NAME = "accessplane"
# What only the Secret may hold.
SECRETS = {"ACCESSPLANE_SECRET_KEY", "ACCESSPLANE_DATABASE_URL", "ACCESSPLANE_REDIS_URL"}


def kustomization() -> dict[str, Any]:
    return yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())


def resources() -> list[dict[str, Any]]:
    """Every object the kustomization applies, in its order."""
    return [
        document
        for name in kustomization()["resources"]
        for document in yaml.safe_load_all((MANIFESTS / name).read_text())
        if document is not None
    ]


def named(kind: str, name: str) -> dict[str, Any]:
    [resource] = [r for r in resources() if r["kind"] == kind and r["metadata"]["name"] == name]
    return resource


def pod_specs() -> list[dict[str, Any]]:
    return [
        r["spec"]["template"]["spec"] for r in resources() if r["kind"] in ("Deployment", "Job")
    ]


def server_container() -> dict[str, Any]:
    [container] = named("Deployment", "accessplane")["spec"]["template"]["spec"]["containers"]
    return container


def test_the_kustomization_lists_every_manifest() -> None:
    listed = set(kustomization()["resources"])
    present = {p.name for p in MANIFESTS.glob("*.yaml")} - {"kustomization.yaml"}

    assert listed == present


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    "resource", resources(), ids=lambda r: f"{r['kind']}/{r['metadata']['name']}"
)
def test_each_manifest_is_valid_for_kubernetes(resource: dict[str, Any], version: str) -> None:
    # strict: an unknown or misspelt field is an error, not silently dropped by the API server.
    kubernetes_validate.validate(resource, version, strict=True)


def test_the_kinds_an_operator_needs_are_there() -> None:
    kinds = sorted((r["kind"], r["metadata"]["name"]) for r in resources())

    assert kinds == [
        ("ConfigMap", "accessplane"),
        ("Deployment", "accessplane"),
        ("Deployment", "accessplane-worker"),
        ("Job", "accessplane-migrate"),
        ("PodDisruptionBudget", "accessplane"),
        ("Service", "accessplane"),
    ]


async def test_the_probes_ask_paths_the_app_serves(app, http: httpx.AsyncClient) -> None:  # type: ignore[no-untyped-def]
    container = server_container()
    probes = {k: container[k]["httpGet"]["path"] for k in ("livenessProbe", "readinessProbe")}
    served = {getattr(route, "path", None) for route in app.routes}

    assert probes == {"livenessProbe": "/healthz", "readinessProbe": "/readyz"}
    assert set(probes.values()) <= served
    for path in probes.values():
        assert (await http.get(path)).status_code == 200


def test_the_probes_and_the_service_use_the_configured_port() -> None:
    container = server_container()
    [port] = container["ports"]
    config = named("ConfigMap", "accessplane")["data"]
    probe_ports = {container[k]["httpGet"]["port"] for k in container if k.endswith("Probe")}

    assert port["containerPort"] == int(config["ACCESSPLANE_PORT"])
    assert probe_ports == {port["name"]}
    assert named("Service", "accessplane")["spec"]["ports"][0]["targetPort"] == port["name"]


def test_the_disruption_budget_and_the_service_select_the_server_pods() -> None:
    labels = named("Deployment", "accessplane")["spec"]["template"]["metadata"]["labels"]
    selectors = [
        named("Service", "accessplane")["spec"]["selector"],
        named("PodDisruptionBudget", "accessplane")["spec"]["selector"]["matchLabels"],
    ]

    assert all(selector.items() <= labels.items() for selector in selectors)
    assert named("Deployment", "accessplane")["spec"]["replicas"] >= 2


def test_each_pod_runs_a_cli_command_as_the_images_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    [uid] = re.findall(r"^USER (\d+):\d+$", dockerfile, flags=re.MULTILINE)
    commands = set(typer.main.get_command(cli).commands)  # type: ignore[attr-defined]

    for spec in pod_specs():
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == int(uid)
        for container in spec["containers"]:
            assert container["command"][0] == "accessplane"
            assert container["command"][1] in commands
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert "memory" in container["resources"]["limits"]
    assert {c["command"][1] for s in pod_specs() for c in s["containers"]} == {
        "serve",
        "migrate",
        "worker",
    }


def test_secrets_come_from_the_secret_and_the_rest_from_the_config_map() -> None:
    config = named("ConfigMap", "accessplane")["data"]

    assert config["ACCESSPLANE_ENVIRONMENT"] == "production"
    assert not SECRETS & set(config)
    for spec in pod_specs():
        for container in spec["containers"]:
            from_secret = {
                e["name"]: e["valueFrom"]["secretKeyRef"]
                for e in container["env"]
                if "secretKeyRef" in e.get("valueFrom", {})
            }
            assert {"ACCESSPLANE_SECRET_KEY", "ACCESSPLANE_DATABASE_URL"} <= set(from_secret)
            assert {ref["name"] for ref in from_secret.values()} == {SECRET_NAME}
            assert all(ref["key"] == name for name, ref in from_secret.items())
            assert container["envFrom"] == [{"configMapRef": {"name": "accessplane"}}]
