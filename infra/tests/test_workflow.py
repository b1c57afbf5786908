"""The CI/CD workflow: the steps the deployment relies on are there, actions are pinned, and
secrets are only read in the job bound to a GitHub environment."""

import re

import yaml

import consistency as c

WORKFLOW = c.ROOT / ".github" / "workflows" / "ci-cd.yml"


def load():
    doc = yaml.safe_load(WORKFLOW.read_text())
    # YAML 1.1 reads the key `on` as True.
    doc["on"] = doc.pop(True, doc.get("on"))
    return doc


def steps(job):
    return load()["jobs"][job]["steps"]


def uses(job, action):
    return [s for s in steps(job) if s.get("uses", "").split("@")[0].lower() == action.lower()]


def test_pull_requests_run_the_test_command_and_bicep():
    doc = load()
    assert "pull_request" in doc["on"] and doc["on"]["push"]["branches"] == ["main"]
    assert any(s.get("run") == "./.ci/run" for s in steps("test"))
    bicep = " ".join(s.get("run", "") for s in steps("bicep"))
    assert "az bicep build --file infra/main.bicep" in bicep
    assert "az bicep lint --file infra/main.bicep" in bicep


def test_main_builds_a_static_package_with_the_exec_bit():
    build = load()["jobs"]["build"]
    assert build["if"] == "github.event_name != 'pull_request'"
    runs = "\n".join(s.get("run", "") for s in build["steps"])
    assert '--target "$MUSL_TARGET"' in runs and load()["env"]["MUSL_TARGET"] == "x86_64-unknown-linux-musl"
    assert "handler\" package --out dist/functionapp" in runs
    assert re.search(r"zipinfo dist/functionapp.zip handler \| grep -Eq '\^-rwxr-xr-x'", runs)
    uploaded = [s["with"]["path"] for s in uses("build", "actions/upload-artifact")]
    assert "dist/functionapp.zip" in uploaded, "upload the zip, never the folder (modes are lost)"


def test_deploy_uses_oidc_what_if_migrate_and_smoke_test():
    deploy = load()["jobs"]["deploy"]
    assert deploy["environment"] == "production"
    assert deploy["permissions"]["id-token"] == "write"
    assert uses("deploy", "azure/login")
    runs = [s.get("run", "") for s in steps("deploy")]
    order = [
        next(i for i, r in enumerate(runs) if "az deployment group what-if" in r),
        next(i for i, r in enumerate(runs) if "az deployment group create" in r),
        next(i for i, r in enumerate(runs) if "handler\" migrate" in r),
        next(i for i, s in enumerate(steps("deploy")) if s.get("uses", "").startswith("Azure/functions-action")),
        next(i for i, s in enumerate(steps("deploy")) if s.get("uses", "").startswith("Azure/static-web-apps-deploy")),
        next(i for i, r in enumerate(runs) if "/api/health" in r),
    ]
    assert order == sorted(order)
    (fa,) = uses("deploy", "Azure/functions-action")
    assert fa["with"]["sku"] == "flexconsumption" and fa["with"]["package"] == "dist/functionapp.zip"
    (swa,) = uses("deploy", "Azure/static-web-apps-deploy")
    assert swa["with"]["skip_app_build"] is True


def test_actions_are_pinned_and_secrets_stay_in_the_environment_job():
    for name, job in load()["jobs"].items():
        for s in job["steps"]:
            if "uses" in s:
                ref = s["uses"].split("@")[1]
                assert re.fullmatch(r"v\d+(\.\d+)*|[0-9a-f]{40}|\d+\.\d+\.\d+", ref), s["uses"]
        text = yaml.safe_dump(job)
        if "secrets." in text:
            assert job.get("environment") == "production", f"job {name} reads secrets outside the environment"
