"""Checks that infra/main.bicep deploys what the binary expects.

The Bicep CLI cannot be installed where the tests run, so main.bicep is parsed with
pycep-parser (a Lark grammar of Bicep, from PyPI) and compared with the project's own sources:

* local.settings.example.json - every setting the binary reads (the Rust settings loader and
  `handler package` use the same file; `settings_rs_names` keeps the two in step);
* handlers/functions/*/function.json and handlers/src/functions/mod.rs - the functions;
* host.json - the custom handler and the timeout;
* the Azure token scopes in shared/src - which data-plane roles the code needs.

Each `check_*` returns a list of human-readable problems (empty when consistent), so tests can
assert both that the real files agree and that a broken copy is caught.
"""

from __future__ import annotations

import copy
import json
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pycep import BicepParser

ROOT = Path(__file__).resolve().parents[2]

# Built-in Azure role definition ids (the same in every cloud).
ROLE_IDS = {
    "Azure Service Bus Data Sender": "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
    "Azure Service Bus Data Receiver": "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0",
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "Search Index Data Contributor": "8ebe5a00-799e-43f5-93ac-243d3dce84a7",
    "Search Service Contributor": "7ca78c08-252a-4471-8644-bb5ff32d4ba0",
    "Cognitive Services OpenAI User": "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",
    "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
}

# Settings of local.settings.example.json that Azure leaves to the binary's default, and why.
# A setting added to the example file must either be set by main.bicep or be listed here.
LEFT_TO_DEFAULT = {
    "FUNCTIONS_WORKER_RUNTIME": "Flex: functionAppConfig.runtime; Linux Consumption: consumptionSettings",
    "AzureWebJobsStorage": "identity-based AzureWebJobsStorage__* settings instead",
    "PORT": "handler serve only",
    "BIND_ADDRESS": "handler serve only",
    "QUEUE_VISIBILITY_TIMEOUT_SECS": "local Postgres queue only (Service Bus: lockDuration)",
    "SERVICEBUS_CONNECTION_STRING": "managed identity instead",
    "AZURE_STORAGE_CONNECTION_STRING": "managed identity instead",
    "FRONTEND_DIST": "the SPA is served by the Static Web App",
    "NIGHTLY_SCHEDULE": "local timers only; Azure reads function.json",
    "SWEEPER_SCHEDULE": "local timers only; Azure reads function.json",
    "SESSION_TTL_HOURS": "default",
    "INSTAGRAM_AUTHORIZE_URL": "default (Meta's address)",
    "INSTAGRAM_API_BASE": "default (Meta's address)",
    "INSTAGRAM_GRAPH_BASE": "default (Meta's address)",
    "INSTAGRAM_SEND_RATE_PER_SECOND": "default",
    "AZURE_SEARCH_API_KEY": "managed identity instead",
    "OPENAI_API_KEY": "LLM_PROVIDER=azure",
    "OPENAI_BASE_URL": "LLM_PROVIDER=azure",
    "OPENAI_CHAT_MODEL": "LLM_PROVIDER=azure",
    "OPENAI_EMBEDDING_MODEL": "LLM_PROVIDER=azure",
    "AZURE_OPENAI_API_KEY": "managed identity instead",
    "LLM_TIMEOUT_SECS": "default",
    "LLM_MAX_RETRIES": "default",
    "AGENT_QUIET_MS": "default",
    "SEARCH_VECTOR_CACHE_MB": "default (128 MB of the instance's memory)",
    "AGENT_MAX_TOOL_ROUNDS": "default",
    "LICENCE_WHITELIST_PATH": "the whitelist is a blob in Azure (LICENCE_WHITELIST_BLOB)",
    "LICENCE_SIGNING_KEY": "optional: a Key Vault reference added by the operator for signing in the admin console (docs/deploy.md); without it the console's licence page is read-only",
    "LICENCE_RELOAD_SECS": "default",
    "ADMIN_SESSION_TTL_HOURS": "default",
    "AGENT_CONCURRENCY": "handler serve only; in Azure host.json serviceBus.maxConcurrentCalls (checked against DATABASE_POOL_SIZE)",
    "INSTAGRAM_TIMEOUT_SECS": "default",
    "INSTAGRAM_ECHO_WAIT_MS": "default",
}

# Settings the Functions host gives the binary itself.
SET_BY_THE_HOST = {"FUNCTIONS_CUSTOMHANDLER_PORT"}

# Settings the host itself reads (not the binary).
HOST_SETTING_PREFIXES = (
    "AzureWebJobsStorage__",
    "ServiceBusConnection__",
    "APPLICATIONINSIGHTS_",
    "FUNCTIONS_",
    "WEBSITE_",
)

# Values that are secrets: in Azure they must be Key Vault references.
SECRET_SETTINGS = {
    "TOKEN_ENCRYPTION_KEY",
    "DATABASE_URL",
    "DATABASE_ADMIN_URL",
    "INSTAGRAM_APP_SECRET",
    "META_APP_SECRET",
    "META_VERIFY_TOKEN",
    "OPENAI_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "AZURE_SEARCH_API_KEY",
    "SERVICEBUS_CONNECTION_STRING",
    "AZURE_STORAGE_CONNECTION_STRING",
    "LICENCE_SIGNING_KEY",
}

# Fixed values production needs.
FIXED_VALUES = {
    "IGSHOP_ENV": "production",
    "QUEUE_BACKEND": "servicebus",
    "LLM_PROVIDER": "azure",
    "LOG_FORMAT": "json",
}

# Settings Flex Consumption refuses (it configures these itself).
FLEX_FORBIDDEN = {
    "FUNCTIONS_WORKER_RUNTIME",
    "FUNCTIONS_EXTENSION_VERSION",
    "WEBSITE_RUN_FROM_PACKAGE",
    "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
    "WEBSITE_CONTENTSHARE",
    "WEBSITE_NODE_DEFAULT_VERSION",
    "WEBSITE_TIME_ZONE",
}

# Meta app configuration: output name -> path the binary must serve.
META_OUTPUTS = {
    "webhookCallbackUrl": "/api/instagram/webhook",
    "oauthRedirectUrl": "/api/instagram/oauth/callback",
    "deauthorizeCallbackUrl": "/api/meta/deauthorize",
    "dataDeletionCallbackUrl": "/api/meta/data-deletion",
    "deletionStatusUrl": "/api/meta/deletion-status",
    "healthUrl": "/api/health",
}

# Postgres: connections left to applications on Standard_B1ms (max_connections 50, of which
# Azure keeps 15 for replication and monitoring).
B1MS_APP_CONNECTIONS = 35


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------

_PARSER: BicepParser | None = None


def _parser() -> BicepParser:
    global _PARSER
    if _PARSER is None:
        _PARSER = BicepParser(cache=False)
    return _PARSER


_PARSED: dict[str, dict] = {}


def _parse(text: str) -> dict:
    """The parsed tree of a Bicep text (each distinct text is parsed once)."""
    if text not in _PARSED:
        _PARSED[text] = _parser().parse(text=text)
    return copy.deepcopy(_PARSED[text])


# ---------------------------------------------------------------------------------------------
# The project
# ---------------------------------------------------------------------------------------------


@dataclass
class Project:
    bicep_text: str
    host_json: dict
    functions: dict[str, dict]  # folder name -> function.json
    registered_functions: list[str]  # handlers/src/functions/mod.rs
    example_settings: dict[str, Any]
    settings_rs: str
    code: str  # shared/src + handlers/src concatenated (for token scopes)
    migrations: str
    parameters_file: dict
    workflow_text: str
    bicep: dict = field(init=False)

    def __post_init__(self) -> None:
        self.bicep = _parse(self.bicep_text)


def load(root: Path = ROOT, **overrides: Any) -> Project:
    """The project as it is on disk; keyword arguments replace single parts (broken copies)."""
    functions = {}
    for f in sorted((root / "handlers" / "functions").glob("*/function.json")):
        functions[f.parent.name] = json.loads(f.read_text())
    mod_rs = (root / "handlers" / "src" / "functions" / "mod.rs").read_text()
    code = "\n".join(
        p.read_text() for d in ("shared/src", "handlers/src") for p in sorted((root / d).rglob("*.rs"))
    )
    workflow = root / ".github" / "workflows" / "ci-cd.yml"
    parts = dict(
        bicep_text=(root / "infra" / "main.bicep").read_text(),
        host_json=json.loads((root / "host.json").read_text()),
        functions=functions,
        registered_functions=re.findall(r'function!\("([^"]+)"\)', mod_rs),
        example_settings=json.loads((root / "local.settings.example.json").read_text())["Values"],
        settings_rs=(root / "shared" / "src" / "settings.rs").read_text(),
        code=code,
        migrations="\n".join(p.read_text() for p in sorted((root / "shared" / "migrations").glob("*.sql"))),
        parameters_file=json.loads((root / "infra" / "main.parameters.json").read_text()),
        workflow_text=workflow.read_text() if workflow.exists() else "",
    )
    parts.update(overrides)
    return Project(**parts)


def changed(p: Project, **parts: Any) -> Project:
    """A copy of `p` with some parts replaced (a broken copy), without reading the disk again."""
    return replace(p, **parts)


# ---------------------------------------------------------------------------------------------
# Reading the parsed Bicep
# ---------------------------------------------------------------------------------------------


def resources(p: Project) -> dict[str, dict]:
    return p.bicep["resources"]


def body(resource: dict) -> dict:
    """The object of a resource (inside a condition or a loop, if any)."""
    cfg = resource["config"]
    while isinstance(cfg, dict) and "config" in cfg and ("condition" in cfg or "loop_type" in cfg):
        cfg = cfg["config"]
    return cfg


def condition(resource: dict) -> Any:
    cfg = resource["config"]
    return cfg.get("condition") if isinstance(cfg, dict) and "config" in cfg else None


def of_type(p: Project, rtype: str) -> dict[str, dict]:
    return {k: v for k, v in resources(p).items() if v["type"].lower() == rtype.lower()}


def variable(p: Project, name: str) -> Any:
    return p.bicep["variables"][name]["value"]


def parameter_default(p: Project, name: str) -> Any:
    return p.bicep["parameters"][name].get("default")


def accessor_path(expr: Any) -> str | None:
    """`a.b.c` for a property-accessor expression, the symbol for a bare name."""
    if isinstance(expr, str):
        return expr
    if isinstance(expr, dict) and "operator" in expr and expr["operator"]["type"] == "property_accessor":
        ops = expr["operator"]["operands"]
        left, right = accessor_path(ops["operand_1"]), accessor_path(ops["operand_2"])
        if left is None or right is None:
            return None
        return f"{left}.{right}"
    return None


def literal(p: Project, expr: Any) -> Any:
    """A plain value: literals as they are, variables resolved, anything else None."""
    if isinstance(expr, (int, bool, float)) or expr is None:
        return expr
    if isinstance(expr, str):
        if expr in p.bicep["variables"]:
            return literal(p, variable(p, expr))
        return expr
    if isinstance(expr, dict) and "function" in expr and expr["function"]["type"] == "string":
        return str(literal(p, next(iter(expr["function"]["parameters"].values()))))
    return None


def evaluate_list(p: Project, expr: Any, hosting: str) -> list:
    """An array expression (variables, concat, `isFlex ? a : b`) for one hosting choice."""
    if isinstance(expr, list):
        return expr
    if isinstance(expr, str) and expr in p.bicep["variables"]:
        return evaluate_list(p, variable(p, expr), hosting)
    if isinstance(expr, dict) and "function" in expr and expr["function"]["type"] == "concat":
        out: list = []
        for arg in expr["function"]["parameters"].values():
            if arg is not None:
                out.extend(evaluate_list(p, arg, hosting))
        return out
    if isinstance(expr, dict) and "operator" in expr and expr["operator"]["type"] == "conditional":
        ops = expr["operator"]["operands"]
        if ops["condition"] != "isFlex":
            raise ValueError(f"app settings depend on {ops['condition']!r}; only isFlex is understood")
        return evaluate_list(p, ops["true_value"] if hosting == "flex" else ops["false_value"], hosting)
    raise ValueError(f"cannot read this array expression: {json.dumps(expr)[:200]}")


def function_app(p: Project) -> tuple[str, dict]:
    sites = [(k, v) for k, v in of_type(p, "Microsoft.Web/sites").items() if "functionapp" in str(body(v).get("kind"))]
    if len(sites) != 1:
        raise AssertionError(f"expected one Function App in main.bicep, found {len(sites)}")
    return sites[0]


def app_settings(p: Project, hosting: str) -> dict[str, Any]:
    _, site = function_app(p)
    expr = body(site)["properties"]["siteConfig"]["appSettings"]
    settings: dict[str, Any] = {}
    for item in evaluate_list(p, expr, hosting):
        settings[item["name"]] = item["value"]
    return settings


def string_value(p: Project, value: Any) -> str | None:
    v = literal(p, value)
    return v if isinstance(v, str) else (str(v) if isinstance(v, (int, bool)) else None)


HOSTINGS = ("flex", "consumption")


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------


def settings_rs_names(p: Project) -> list[str]:
    """Setting names the Rust loader looks up (string literals given to its lookup helpers)."""
    pattern = re.compile(
        r'(?:src\.get\(|number\(\s*src,\s*|url_setting\(|postgres_url\(src,\s*|name:\s*)"([A-Za-z][A-Za-z0-9_]*)"'
    )
    return sorted(set(pattern.findall(p.settings_rs)))


def check_settings_file_lists_every_setting(p: Project) -> list[str]:
    return [
        f"shared/src/settings.rs reads {n}, which local.settings.example.json does not list"
        for n in settings_rs_names(p)
        if n not in p.example_settings and n not in SET_BY_THE_HOST
    ]


def check_app_settings(p: Project) -> list[str]:
    problems = []
    for stale in sorted(set(LEFT_TO_DEFAULT) - set(p.example_settings)):
        problems.append(f"LEFT_TO_DEFAULT names {stale}, which local.settings.example.json no longer lists")
    for hosting in HOSTINGS:
        settings = app_settings(p, hosting)
        for name in p.example_settings:
            if name not in LEFT_TO_DEFAULT and name not in settings:
                problems.append(f"[{hosting}] the binary reads {name} but main.bicep does not set it")
        for name in settings:
            if name not in p.example_settings and not name.startswith(HOST_SETTING_PREFIXES):
                problems.append(f"[{hosting}] main.bicep sets {name}, which the binary does not read")
        for name, want in FIXED_VALUES.items():
            got = string_value(p, settings.get(name))
            if got != want:
                problems.append(f"[{hosting}] {name} must be {want!r}, main.bicep sets {got!r}")
        for name in SECRET_SETTINGS & set(settings):
            v = settings[name]
            if not (isinstance(v, str) and v.startswith("@Microsoft.KeyVault(")):
                problems.append(f"[{hosting}] {name} is a secret and must be a Key Vault reference")
        if hosting == "flex":
            for name in FLEX_FORBIDDEN & set(settings):
                problems.append(f"[flex] Flex Consumption refuses the app setting {name}")
        else:
            if string_value(p, settings.get("FUNCTIONS_WORKER_RUNTIME")) != "custom":
                problems.append("[consumption] FUNCTIONS_WORKER_RUNTIME must be 'custom'")
            if "WEBSITE_TIME_ZONE" in settings:
                problems.append("[consumption] timers run in UTC everywhere; do not set WEBSITE_TIME_ZONE")
    return problems


def check_identity_connections(p: Project) -> list[str]:
    """Host connections are identity-based and name the app's user-assigned identity."""
    problems = []
    connections = {"AzureWebJobsStorage"} | {
        b["connection"] for f in p.functions.values() for b in f["bindings"] if "connection" in b
    }
    for hosting in HOSTINGS:
        settings = app_settings(p, hosting)
        for conn in sorted(connections):
            if conn == "AzureWebJobsStorage":
                needed = ["__blobServiceUri", "__credential", "__clientId"]
            else:
                needed = ["__fullyQualifiedNamespace", "__credential", "__clientId"]
            for suffix in needed:
                if conn + suffix not in settings:
                    problems.append(f"[{hosting}] connection {conn} needs the setting {conn}{suffix}")
            if string_value(p, settings.get(conn + "__credential")) not in (None, "managedidentity"):
                problems.append(f"[{hosting}] {conn}__credential must be 'managedidentity'")
            if conn + "__clientId" in settings and accessor_path(settings[conn + "__clientId"]) != "identity.properties.clientId":
                problems.append(f"[{hosting}] {conn}__clientId must be the user-assigned identity's client id")
            if conn in settings:
                problems.append(f"[{hosting}] {conn} must not be a connection string")
        if accessor_path(settings.get("AZURE_CLIENT_ID")) != "identity.properties.clientId":
            problems.append(f"[{hosting}] AZURE_CLIENT_ID must be the user-assigned identity's client id")
    _, site = function_app(p)
    props = body(site)["properties"]
    if accessor_path(props.get("keyVaultReferenceIdentity")) != "identity.id":
        problems.append("the site needs keyVaultReferenceIdentity: identity.id (Key Vault references use it)")
    if "keyVaultReferenceIdentity" in props.get("siteConfig", {}):
        problems.append("keyVaultReferenceIdentity belongs on the site's properties, not under siteConfig")
    return problems


def _queue(p: Project) -> tuple[str | None, dict | None]:
    queues = of_type(p, "Microsoft.ServiceBus/namespaces/queues")
    if len(queues) != 1:
        return None, None
    (_, q), = queues.items()
    return literal(p, body(q)["name"]), body(q)


def _duration_seconds(iso: str) -> float:
    m = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?", iso)
    if not m:
        raise ValueError(f"not an ISO 8601 duration: {iso}")
    d, h, mi, s = (int(x or 0) for x in m.groups())
    return ((d * 24 + h) * 60 + mi) * 60 + s


def _timespan_seconds(ts: str) -> float:
    h, m, s = ts.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def check_queue(p: Project) -> list[str]:
    problems = []
    name, q = _queue(p)
    if q is None:
        return ["main.bicep must declare exactly one Service Bus queue"]
    triggers = [
        (fn, b) for fn, f in p.functions.items() for b in f["bindings"] if b["type"] == "serviceBusTrigger"
    ]
    if not triggers:
        problems.append("no function is bound to a Service Bus queue")
    for fn, b in triggers:
        if b.get("queueName") != name:
            problems.append(f"function {fn} is bound to queue {b.get('queueName')!r} but main.bicep creates {name!r}")
    for hosting in HOSTINGS:
        settings = app_settings(p, hosting)
        if string_value(p, settings.get("QUEUE_NAME")) != name:
            problems.append(f"[{hosting}] QUEUE_NAME is {string_value(p, settings.get('QUEUE_NAME'))!r}, the queue is {name!r}")
        if string_value(p, settings.get("QUEUE_MAX_DELIVERIES")) != str(literal(p, q["properties"].get("maxDeliveryCount"))):
            problems.append(f"[{hosting}] QUEUE_MAX_DELIVERIES must equal the queue's maxDeliveryCount")
    props = q["properties"]
    if literal(p, props.get("maxDeliveryCount")) != 10:
        problems.append("dm-inbound: maxDeliveryCount must be 10")
    lock = _duration_seconds(props.get("lockDuration", "PT1M"))
    timeout = _timespan_seconds(p.host_json.get("functionTimeout", "00:05:00"))
    if lock > 300:
        problems.append("dm-inbound: lockDuration is at most 5 minutes on Service Bus")
    if lock < timeout:
        problems.append(f"dm-inbound: lockDuration ({lock:.0f} s) is shorter than host.json functionTimeout ({timeout:.0f} s), so a long agent turn loses its lock")
    if props.get("deadLetteringOnMessageExpiration") is not True:
        problems.append("dm-inbound: deadLetteringOnMessageExpiration must be true")
    ttl = props.get("defaultMessageTimeToLive")
    if ttl is None or _duration_seconds(ttl) > 14 * 86400:
        problems.append("dm-inbound: defaultMessageTimeToLive must be set and at most 14 days (Basic)")
    if "autoDeleteOnIdle" in props:
        problems.append("dm-inbound: Basic refuses autoDeleteOnIdle")
    namespaces = of_type(p, "Microsoft.ServiceBus/namespaces")
    for ns in namespaces.values():
        if body(ns)["sku"]["name"] == "Basic":
            for prop in ("requiresSession", "requiresDuplicateDetection"):
                if props.get(prop) is True:
                    problems.append(f"dm-inbound: Basic refuses {prop}")
    return problems


KV_REF = re.compile(r"@Microsoft\.KeyVault\((.*)\)$")


def key_vault_references(p: Project, hosting: str) -> dict[str, tuple[str, str]]:
    """setting -> (vault symbol, secret name)."""
    refs = {}
    for name, value in app_settings(p, hosting).items():
        if not isinstance(value, str):
            continue
        m = KV_REF.match(value)
        if not m:
            continue
        inner = m.group(1)
        vault = re.search(r"VaultName=\$\{(\w+)\.name\}", inner)
        secret = re.search(r"SecretName=([A-Za-z0-9-]+)", inner)
        uri = re.search(r"SecretUri=\$\{(\w+)\.properties\.vaultUri\}secrets/([A-Za-z0-9-]+)", inner)
        if vault and secret:
            refs[name] = (vault.group(1), secret.group(1))
        elif uri:
            refs[name] = (uri.group(1), uri.group(2))
        else:
            refs[name] = ("?", inner)
    return refs


def check_key_vault_references(p: Project) -> list[str]:
    problems = []
    declared = {}
    for sym, r in of_type(p, "Microsoft.KeyVault/vaults/secrets").items():
        b = body(r)
        declared[(b.get("parent"), literal(p, b["name"]))] = sym
    vaults = of_type(p, "Microsoft.KeyVault/vaults")
    for sym, v in vaults.items():
        if body(v)["properties"].get("enableRbacAuthorization") is not True:
            problems.append(f"Key Vault {sym} must use RBAC (enableRbacAuthorization: true)")
    for hosting in HOSTINGS:
        for setting, (vault, secret) in key_vault_references(p, hosting).items():
            if vault not in vaults:
                problems.append(f"[{hosting}] {setting}: the Key Vault reference does not name a vault declared in main.bicep ({vault})")
            elif (vault, secret) not in declared:
                problems.append(f"[{hosting}] {setting} refers to secret {secret!r}, which main.bicep does not declare in {vault}")
    return problems


def role_assignments(p: Project) -> list[dict]:
    """Each assignment: role id, scope symbol, principal, condition."""
    out = []
    role_map = variable(p, "roles")
    for sym, r in of_type(p, "Microsoft.Authorization/roleAssignments").items():
        b = body(r)
        rd = b["properties"]["roleDefinitionId"]
        role_id = None
        if isinstance(rd, dict) and "function" in rd:
            arg = rd["function"]["parameters"].get("resource_name_1")
            path = accessor_path(arg)
            if path and path.startswith("roles."):
                role_id = role_map.get(path.split(".", 1)[1])
            elif isinstance(arg, str):
                role_id = arg
        out.append(
            dict(
                symbol=sym,
                role_id=role_id,
                scope=b.get("scope"),
                principal=accessor_path(b["properties"].get("principalId")),
                condition=condition(r),
            )
        )
    return out


def needed_roles(p: Project) -> list[tuple[str, str, str]]:
    """(role, resource type it must be on, why), derived from the code and the bindings."""
    needs = [("Storage Blob Data Owner", "Microsoft.Storage/storageAccounts", "host storage and knowledge/licence blobs through the identity")]
    if "https://servicebus.azure.net/.default" in p.code:
        needs.append(("Azure Service Bus Data Sender", "Microsoft.ServiceBus/namespaces", "the webhook and the sweeper send to dm-inbound"))
    if any(b["type"] == "serviceBusTrigger" for f in p.functions.values() for b in f["bindings"]):
        needs.append(("Azure Service Bus Data Receiver", "Microsoft.ServiceBus/namespaces", "the agent function's trigger"))
    if any(KV_REF.match(v) for h in HOSTINGS for v in app_settings(p, h).values() if isinstance(v, str)):
        needs.append(("Key Vault Secrets User", "Microsoft.KeyVault/vaults", "Key Vault references in app settings"))
    if "https://search.azure.com/.default" in p.code:
        needs.append(("Search Index Data Contributor", "Microsoft.Search/searchServices", "indexing and querying"))
        if re.search(r'format!\("\{\}/indexes/\{\}", self\.endpoint', p.code):
            needs.append(("Search Service Contributor", "Microsoft.Search/searchServices", "the app creates its index definition"))
    if "https://cognitiveservices.azure.com/.default" in p.code:
        needs.append(("Cognitive Services OpenAI User", "Microsoft.CognitiveServices/accounts", "chat and embeddings"))
    if any("APPLICATIONINSIGHTS_AUTHENTICATION_STRING" in app_settings(p, h) for h in HOSTINGS):
        needs.append(("Monitoring Metrics Publisher", "Microsoft.Insights/components", "telemetry with local auth off"))
    return needs


def check_roles(p: Project) -> list[str]:
    problems = []
    assigned = role_assignments(p)
    by_symbol = resources(p)
    wanted_ids = set()
    for role, rtype, why in needed_roles(p):
        rid = ROLE_IDS[role]
        wanted_ids.add(rid)
        ok = [
            a
            for a in assigned
            if a["role_id"] == rid
            and a["principal"] == "identity.properties.principalId"
            and a["scope"] in by_symbol
            and by_symbol[a["scope"]]["type"].lower() == rtype.lower()
        ]
        if not ok:
            problems.append(f"the app's identity needs {role} on {rtype} ({why}); main.bicep does not assign it")
        for a in ok:
            scope_cond = condition(by_symbol[a["scope"]])
            if scope_cond is not None and a["condition"] != scope_cond:
                problems.append(f"{a['symbol']} must have the same condition as {a['scope']}")
    for a in assigned:
        if a["role_id"] not in wanted_ids:
            problems.append(f"{a['symbol']} assigns a role the code does not need ({a['role_id']}); keep the identity's roles to the least")
        if a["principal"] != "identity.properties.principalId":
            problems.append(f"{a['symbol']} must be assigned to the app's user-assigned identity")
    identities = of_type(p, "Microsoft.ManagedIdentity/userAssignedIdentities")
    if len(identities) != 1:
        problems.append(f"expected one user-assigned identity, found {len(identities)}")
    return problems


def _route_matches(template: str, path: str) -> bool:
    regex = ""
    for part in re.split(r"(\{[^}]+\})", template):
        if part.startswith("{*"):
            regex += ".+"
        elif part.startswith("{"):
            regex += "[^/]+"
        else:
            regex += re.escape(part)
    return re.fullmatch(regex, path) is not None


def check_host_and_functions(p: Project) -> list[str]:
    problems = []
    h = p.host_json
    ch = h.get("customHandler", {})
    if ch.get("description", {}).get("defaultExecutablePath") != "handler":
        problems.append("host.json: customHandler.description.defaultExecutablePath must be 'handler' (the packaged executable)")
    if ch.get("enableForwardingHttpRequest") is not True:
        problems.append("host.json: enableForwardingHttpRequest must be true (the binary reads the original requests)")
    if h.get("extensionBundle", {}).get("id") != "Microsoft.Azure.Functions.ExtensionBundle":
        problems.append("host.json: the extension bundle provides the Service Bus and timer triggers")
    if _timespan_seconds(h.get("functionTimeout", "00:05:00")) > 600:
        problems.append("host.json: functionTimeout above 10 minutes fails on Linux Consumption")
    prefix = h.get("extensions", {}).get("http", {}).get("routePrefix", "api")
    if prefix != "api":
        problems.append("host.json: routePrefix must be 'api' (the Static Web App forwards /api to the backend)")

    folders, registered = set(p.functions), set(p.registered_functions)
    for missing in sorted(registered - folders):
        problems.append(f"handlers/src/functions/mod.rs packages {missing}, which has no handlers/functions/{missing}/function.json")
    for extra in sorted(folders - registered):
        problems.append(f"handlers/functions/{extra} is not in the FUNCTIONS list, so `handler package` leaves it out")
    for fn, f in p.functions.items():
        triggers = [b for b in f["bindings"] if b.get("direction") == "in" and b["type"].endswith("Trigger")]
        if len(triggers) != 1:
            problems.append(f"{fn}: a function has exactly one trigger")

    http_routes = [
        b["route"] for f in p.functions.values() for b in f["bindings"] if b["type"] == "httpTrigger"
    ]
    outputs = p.bicep["outputs"]
    for out, path in META_OUTPUTS.items():
        if out not in outputs:
            problems.append(f"main.bicep must output {out} (the Meta app configuration needs it)")
            continue
        value = outputs[out]["value"]
        if not (isinstance(value, str) and value.endswith(path)):
            problems.append(f"output {out} must end with {path}")
        inner = path[len("/" + prefix + "/"):]
        if not any(_route_matches(r, inner) for r in http_routes):
            problems.append(f"output {out} ({path}) is served by no HTTP function")

    _, site = function_app(p)
    cfg = body(site)["properties"].get("functionAppConfig")
    flex = cfg["operator"]["operands"]["true_value"] if isinstance(cfg, dict) and "operator" in cfg else cfg
    if not isinstance(flex, dict):
        problems.append("the Function App needs functionAppConfig for Flex Consumption")
        return problems
    if flex.get("runtime") != {"name": "custom", "version": "1.0"}:
        problems.append("functionAppConfig.runtime must be { name: 'custom', version: '1.0' }")
    storage = flex.get("deployment", {}).get("storage", {})
    auth = storage.get("authentication", {})
    if storage.get("type") != "blobContainer" or auth.get("type") != "UserAssignedIdentity" or accessor_path(auth.get("userAssignedIdentityResourceId")) != "identity.id":
        problems.append("functionAppConfig.deployment.storage must be a blob container read with the user-assigned identity")
    scale = flex.get("scaleAndConcurrency", {})
    ready = scale.get("alwaysReady")
    if isinstance(ready, dict) and "operator" in ready:
        ready = ready["operator"]["operands"]["true_value"]
    for entry in ready or []:
        n = entry.get("name", "")
        if not (n in ("http", "blob", "durable") or (n.startswith("function:") and n[9:] in folders)):
            problems.append(f"alwaysReady names {n!r}, which is neither a trigger group nor one of the functions")

    backends = of_type(p, "Microsoft.Web/staticSites/linkedBackends")
    fa_symbol, _ = function_app(p)
    if not any(accessor_path(body(b)["properties"].get("backendResourceId")) == f"{fa_symbol}.id" for b in backends.values()):
        problems.append("the Static Web App needs the Function App as its linked backend")
    return problems


def check_timers(p: Project) -> list[str]:
    problems = []
    for fn, setting in (("nightly", "NIGHTLY_SCHEDULE"), ("sweeper", "SWEEPER_SCHEDULE")):
        f = p.functions.get(fn)
        if f is None:
            problems.append(f"no {fn} function")
            continue
        schedule = next((b["schedule"] for b in f["bindings"] if b["type"] == "timerTrigger"), None)
        if schedule != p.example_settings.get(setting):
            problems.append(f"{fn}: function.json runs {schedule!r} but the local default {setting} is {p.example_settings.get(setting)!r}")
    return problems


def check_postgres(p: Project) -> list[str]:
    problems = []
    servers = of_type(p, "Microsoft.DBforPostgreSQL/flexibleServers")
    if len(servers) != 1:
        return ["main.bicep must declare one PostgreSQL Flexible Server"]
    (sym, server), = servers.items()
    b = body(server)
    if server["api_version"] < "2024-08-01":
        problems.append("PostgreSQL 16 needs API version 2024-08-01 or later")
    if b["sku"] != {"name": "Standard_B1ms", "tier": "Burstable"}:
        problems.append("PostgreSQL sku must be Standard_B1ms (Burstable)")
    if b["properties"].get("version") != "16":
        problems.append("PostgreSQL version must be 16")
    if b["properties"].get("storage", {}).get("storageSizeGB") != 32:
        problems.append("PostgreSQL storage must be 32 GB")
    if b["properties"].get("authConfig", {}).get("activeDirectoryAuth") != "Enabled":
        problems.append("PostgreSQL needs Microsoft Entra authentication for the managed identity")
    created = {e.upper() for e in re.findall(r"CREATE EXTENSION (?:IF NOT EXISTS )?\"?([a-z_0-9]+)", p.migrations, re.I)}
    allowed = set()
    for c in of_type(p, "Microsoft.DBforPostgreSQL/flexibleServers/configurations").values():
        if literal(p, body(c)["name"]) == "azure.extensions":
            allowed |= {x.strip().upper() for x in str(literal(p, body(c)["properties"]["value"])).split(",")}
    for ext in sorted(created - allowed):
        problems.append(f"the migrations create extension {ext.lower()}, which azure.extensions does not allow")
    if not _identity_is_postgres_admin(p, sym):
        problems.append("the app's identity must be a Microsoft Entra administrator of the server (token sign-in)")
    pool = parameter_default(p, "databasePoolSize")
    instances = parameter_default(p, "maximumInstanceCount")
    per_instance = pool + max(2, math.ceil(pool / 4))
    if instances * per_instance > B1MS_APP_CONNECTIONS:
        problems.append(f"{instances} instances x {per_instance} connections exceed what Standard_B1ms allows ({B1MS_APP_CONNECTIONS})")
    # Each running agent turn holds an application connection (its conversation lock) for the
    # whole turn; the API needs some too, or turns wait out the pool and are redelivered.
    calls = p.host_json.get("extensions", {}).get("serviceBus", {}).get("maxConcurrentCalls", 16)
    if calls >= pool:
        problems.append(f"host.json runs {calls} agent turns at once per instance but DATABASE_POOL_SIZE is {pool}: turns would wait for connections (make the pool larger than maxConcurrentCalls)")
    return problems


def _identity_is_postgres_admin(p: Project, server: str) -> bool:
    """An administrators resource named by the identity's object id, here or in a local module."""
    for a in of_type(p, "Microsoft.DBforPostgreSQL/flexibleServers/administrators").values():
        if accessor_path(body(a)["name"]) == "identity.properties.principalId":
            return True
    for m in p.bicep.get("modules", {}).values():
        if m["type"] != "local":
            continue
        params = m["config"].get("params", {})
        if accessor_path(params.get("principalId")) != "identity.properties.principalId":
            continue
        if accessor_path(params.get("serverName")) != f"{server}.name":
            continue
        module = _parse((ROOT / "infra" / m["detail"]["path"]).read_text())
        for r in module["resources"].values():
            if r["type"] == "Microsoft.DBforPostgreSQL/flexibleServers/administrators" and body(r)["name"] == "principalId":
                return True
    return False


def check_modules(p: Project) -> list[str]:
    problems = []
    for name, m in p.bicep.get("modules", {}).items():
        if m["type"] != "local":
            problems.append(f"module {name} is not a local file (registry modules cannot be resolved offline)")
        elif not (ROOT / "infra" / m["detail"]["path"]).is_file():
            problems.append(f"module {name}: infra/{m['detail']['path']} does not exist")
    return problems


def check_parameters(p: Project) -> list[str]:
    problems = []
    params = p.bicep["parameters"]
    in_file = set(p.parameters_file.get("parameters", {}))
    for name in sorted(in_file - set(params)):
        problems.append(f"main.parameters.json sets {name}, which main.bicep does not declare")
    for name, spec in params.items():
        if spec.get("default") is not None:
            continue
        if name in in_file:
            secure = any(d.get("type") == "secure" for d in spec.get("decorators", []))
            if secure:
                problems.append(f"{name} is secure: pass it from a GitHub environment secret, never in main.parameters.json")
            continue
        passed = rf"(?:-p\s+|\b){re.escape(name)}=|\b{re.escape(name)}:\s*\{{\s*value:"
        if not re.search(passed, p.workflow_text):
            problems.append(f"parameter {name} has no default and neither main.parameters.json nor the workflow passes it")
    return problems


ALL_CHECKS = [
    check_settings_file_lists_every_setting,
    check_app_settings,
    check_identity_connections,
    check_queue,
    check_key_vault_references,
    check_roles,
    check_host_and_functions,
    check_timers,
    check_postgres,
    check_modules,
    check_parameters,
]
