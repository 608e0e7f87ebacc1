"""What the rendered manifests must say, beyond schema validity (scripts/k8s-check.sh).

Usage: assert_manifests.py OVERLAY RENDERED.yaml [--monitoring]
Exits 1, naming each broken expectation, when one does not hold.
"""

import sys

import yaml


def main() -> int:
    overlay, path = sys.argv[1], sys.argv[2]
    monitoring = "--monitoring" in sys.argv[3:]
    docs = [d for d in yaml.safe_load_all(open(path, encoding="utf-8")) if d]
    by_kind: dict[str, list[dict]] = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    failures: list[str] = []

    def expect(ok: bool, what: str) -> None:
        if not ok:
            failures.append(what)

    expect("Secret" not in by_kind, "no Secret is rendered (secrets are referenced by name only)")
    (dep,) = by_kind.get("Deployment", [None])
    spec = dep["spec"]
    pod = spec["template"]["spec"]
    (c,) = pod["containers"]
    psc, csc = pod.get("securityContext", {}), c.get("securityContext", {})
    expect(psc.get("runAsNonRoot") is True, "pod runs as non-root")
    expect(psc.get("runAsUser") == 10001, "pod runs as the image's user 10001")
    expect(csc.get("readOnlyRootFilesystem") is True, "read-only root filesystem")
    expect(csc.get("allowPrivilegeEscalation") is False, "no privilege escalation")
    expect(csc.get("capabilities", {}).get("drop") == ["ALL"], "all capabilities dropped")
    expect(c.get("livenessProbe", {}).get("httpGet", {}).get("path") == "/healthz", "liveness on /healthz")
    expect(c.get("readinessProbe", {}).get("httpGet", {}).get("path") == "/readyz", "readiness on /readyz")
    res = c.get("resources", {})
    expect({"cpu", "memory"} <= set(res.get("requests", {})), "cpu and memory requests")
    expect({"cpu", "memory"} <= set(res.get("limits", {})), "cpu and memory limits")
    labels = spec["template"]["metadata"].get("labels", {})
    expect(labels.get("azure.workload.identity/use") == "true", "pod label azure.workload.identity/use")
    (sa,) = by_kind.get("ServiceAccount", [None])
    expect("azure.workload.identity/client-id" in sa["metadata"].get("annotations", {}),
           "ServiceAccount annotated with azure.workload.identity/client-id")
    expect(pod.get("serviceAccountName") == sa["metadata"]["name"], "pod uses that ServiceAccount")
    (cm,) = by_kind.get("ConfigMap", [None])
    expect("jitgate.toml" in cm.get("data", {}), "ConfigMap holds jitgate.toml")
    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    expect(volumes.get(mounts.get("/etc/jitgate"), {}).get("configMap", {}).get("name") == cm["metadata"]["name"],
           "the generated ConfigMap is mounted at /etc/jitgate")
    expect("emptyDir" in volumes.get(mounts.get("/tmp"), {}), "an emptyDir at /tmp")
    for e in c.get("env", []):
        expect("value" not in e or not any(w in e["name"] for w in ("SECRET", "KEY", "PASSWORD", "URL")),
               f"{e['name']} comes from a Secret, not inline")
    expect(len(by_kind.get("Service", [])) == 1, "one Service")
    expect(len(by_kind.get("NetworkPolicy", [])) >= 1, "a NetworkPolicy")
    policies = by_kind.get("NetworkPolicy", [])
    metrics_open = any(
        p.get("port") == "metrics" for np in policies for r in np["spec"].get("ingress", []) for p in r.get("ports", [])
    )
    expect(all(r.get("ports") for np in policies for r in np["spec"].get("ingress", [])),
           "every ingress rule names its ports")
    expect(metrics_open == monitoring, "the metrics port is open exactly when the monitoring component is used")
    expect(("ServiceMonitor" in by_kind) == monitoring, "a ServiceMonitor exactly with the monitoring component")
    (svc,) = by_kind.get("Service", [None])
    for sm in by_kind.get("ServiceMonitor", []):
        # No schema for this custom resource in kubernetes-validate: what matters is checked here.
        expect(sm["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items(),
               "the ServiceMonitor selects the Service")
        ports = {p["name"] for p in svc["spec"]["ports"]}
        expect(all(e.get("port") in ports for e in sm["spec"]["endpoints"]), "the ServiceMonitor names a Service port")

    if overlay == "sqlite":
        expect(spec.get("replicas") == 1, "sqlite: one replica")
        expect(spec.get("strategy", {}).get("type") == "Recreate", "sqlite: strategy Recreate")
        (pvc,) = by_kind.get("PersistentVolumeClaim", [None])
        data = volumes.get(mounts.get("/var/lib/jitgate"), {})
        expect(data.get("persistentVolumeClaim", {}).get("claimName") == pvc["metadata"]["name"],
               "sqlite: the PersistentVolumeClaim is mounted at /var/lib/jitgate (the database file)")
        expect("PodDisruptionBudget" not in by_kind, "sqlite: no PodDisruptionBudget")
    elif overlay == "postgres":
        expect(spec.get("replicas") == 3, "postgres: three replicas")
        expect(spec.get("strategy", {}).get("type") == "RollingUpdate", "postgres: rolling update")
        (pdb,) = by_kind.get("PodDisruptionBudget", [None])
        expect(pdb["spec"]["selector"] == spec["selector"], "postgres: the PodDisruptionBudget selects the pods")
        env = {e["name"]: e for e in c.get("env", [])}
        expect(env.get("JITGATE_DATABASE__URL", {}).get("valueFrom", {}).get("secretKeyRef", {}).get("name")
               == "jitgate-database", "postgres: the database URL from the Secret jitgate-database")
        expect("PersistentVolumeClaim" not in by_kind, "postgres: no PersistentVolumeClaim")
    else:
        failures.append(f"unknown overlay {overlay}")

    for f in failures:
        print(f"FAIL {overlay}{' + monitoring' if monitoring else ''}: {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
