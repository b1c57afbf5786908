"""main.bicep against the binary: every check holds for the real files, and each one fails on
a copy broken the way a careless edit would break it."""

import copy
import json

import pytest

import consistency as c


@pytest.fixture(scope="module")
def project():
    return c.load()


@pytest.mark.parametrize("check", c.ALL_CHECKS, ids=lambda f: f.__name__)
def test_holds_for_the_repository(project, check):
    assert check(project) == []


def test_the_real_parser_reads_every_resource(project):
    types = {r["type"] for r in c.resources(project).values()}
    for t in (
        "Microsoft.Web/serverfarms",
        "Microsoft.Web/sites",
        "Microsoft.Web/staticSites",
        "Microsoft.Web/staticSites/linkedBackends",
        "Microsoft.Storage/storageAccounts",
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        "Microsoft.KeyVault/vaults",
        "Microsoft.DBforPostgreSQL/flexibleServers",
        "Microsoft.ServiceBus/namespaces/queues",
        "Microsoft.Search/searchServices",
        "Microsoft.CognitiveServices/accounts/deployments",
        "Microsoft.Insights/components",
        "Microsoft.Insights/scheduledQueryRules",
        "Microsoft.Insights/metricAlerts",
    ):
        assert t in types, t
    assert "br/public:" not in project.bicep_text
    assert all(m["type"] == "local" for m in project.bicep["modules"].values())
    # Both hosting profiles give the binary the same settings.
    flex, consumption = (set(c.app_settings(project, h)) for h in c.HOSTINGS)
    assert flex <= consumption
    assert consumption - flex == {
        "FUNCTIONS_WORKER_RUNTIME",
        "FUNCTIONS_EXTENSION_VERSION",
        "WEBSITE_RUN_FROM_PACKAGE",
        "WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID",
    }


def test_search_is_left_out_of_the_low_cost_profile(project):
    search = c.resources(project)["search"]
    assert c.condition(search) == "useAzureSearch"
    assert c.variable(project, "useAzureSearch") == {
        "operator": {"type": "equals", "operands": {"operand_1": "searchBackend", "operand_2": "azure"}}
    }


def test_model_names_are_parameters(project):
    for sym in ("chatDeployment", "embeddingDeployment"):
        model = c.body(c.resources(project)[sym])["properties"]["model"]
        assert model["name"] in project.bicep["parameters"]
        assert model["version"] in project.bicep["parameters"]
    assert c.parameter_default(project, "chatModelName") not in ("gpt-4o", "gpt-4o-mini")


# --- broken copies: each edit must be caught by the check that guards it ----------------------


def broken(project, **parts):
    return c.changed(project, **parts)


def edited(text, old, new):
    assert old in text, f"the test's anchor {old!r} is gone from main.bicep"
    return text.replace(old, new, 1)


def test_a_removed_setting_is_caught(project):
    text = edited(project.bicep_text, "  { name: 'AZURE_OPENAI_CHAT_DEPLOYMENT', value: chatDeploymentName }\n", "")
    problems = c.check_app_settings(broken(project, bicep_text=text))
    assert any("AZURE_OPENAI_CHAT_DEPLOYMENT" in p and "does not set it" in p for p in problems), problems


def test_a_new_setting_of_the_binary_is_caught(project):
    settings = dict(project.example_settings, SHOP_FEATURE_FLAG="")
    problems = c.check_app_settings(broken(project, example_settings=settings))
    assert any("SHOP_FEATURE_FLAG" in p for p in problems), problems


def test_a_setting_missing_from_the_example_file_is_caught(project):
    rs = project.settings_rs + '\nfn x(src: &Source) { src.get("BRAND_NEW_SETTING"); }\n'
    problems = c.check_settings_file_lists_every_setting(broken(project, settings_rs=rs))
    assert problems == ["shared/src/settings.rs reads BRAND_NEW_SETTING, which local.settings.example.json does not list"]


def test_a_plain_secret_is_caught(project):
    text = edited(
        project.bicep_text,
        "'@Microsoft.KeyVault(VaultName=${keyVault.name};SecretName=meta-app-secret)'",
        "metaAppSecret",
    )
    problems = c.check_app_settings(broken(project, bicep_text=text))
    assert any("META_APP_SECRET is a secret" in p for p in problems), problems


def test_flex_refuses_runtime_settings(project):
    text = edited(
        project.bicep_text,
        "  { name: 'IGSHOP_ENV', value: 'production' }\n",
        "  { name: 'IGSHOP_ENV', value: 'production' }\n  { name: 'FUNCTIONS_WORKER_RUNTIME', value: 'custom' }\n",
    )
    problems = c.check_app_settings(broken(project, bicep_text=text))
    assert "[flex] Flex Consumption refuses the app setting FUNCTIONS_WORKER_RUNTIME" in problems


def test_a_renamed_queue_is_caught(project):
    text = edited(project.bicep_text, "var queueName = 'dm-inbound'", "var queueName = 'dm-in'")
    problems = c.check_queue(broken(project, bicep_text=text))
    assert any("bound to queue 'dm-inbound' but main.bicep creates 'dm-in'" in p for p in problems), problems


def test_a_binding_to_another_queue_is_caught(project):
    functions = copy.deepcopy(project.functions)
    functions["agent"]["bindings"][0]["queueName"] = "dm-outbound"
    problems = c.check_queue(broken(project, functions=functions))
    assert any("function agent is bound to queue 'dm-outbound'" in p for p in problems), problems


def test_queue_properties_are_checked(project):
    text = edited(project.bicep_text, "    lockDuration: 'PT5M'\n", "    lockDuration: 'PT1M'\n    autoDeleteOnIdle: 'P7D'\n")
    text = edited(text, "defaultMessageTimeToLive: 'P14D'", "defaultMessageTimeToLive: 'P30D'")
    problems = c.check_queue(broken(project, bicep_text=text))
    assert any("shorter than host.json functionTimeout" in p for p in problems), problems
    assert any("autoDeleteOnIdle" in p for p in problems), problems
    assert any("defaultMessageTimeToLive" in p for p in problems), problems


def test_a_connection_without_its_identity_settings_is_caught(project):
    text = edited(project.bicep_text, "  { name: 'ServiceBusConnection__clientId', value: identity.properties.clientId }\n", "")
    problems = c.check_identity_connections(broken(project, bicep_text=text))
    assert any("ServiceBusConnection__clientId" in p for p in problems), problems


def test_an_undeclared_key_vault_secret_is_caught(project):
    text = edited(project.bicep_text, "SecretName=meta-verify-token)", "SecretName=meta-verify)")
    problems = c.check_key_vault_references(broken(project, bicep_text=text))
    assert any("META_VERIFY_TOKEN refers to secret 'meta-verify'" in p for p in problems), problems


def test_a_missing_role_is_caught(project):
    start = project.bicep_text.index("resource roleOpenAIUser")
    end = project.bicep_text.index("\n}\n", start) + 3
    text = project.bicep_text[:start] + project.bicep_text[end:]
    problems = c.check_roles(broken(project, bicep_text=text))
    assert any("Cognitive Services OpenAI User" in p for p in problems), problems


def test_a_role_on_the_wrong_resource_is_caught(project):
    text = edited(
        project.bicep_text,
        "  name: guid(serviceBus.id, identity.id, roles.serviceBusDataSender)\n  scope: serviceBus\n",
        "  name: guid(serviceBus.id, identity.id, roles.serviceBusDataSender)\n  scope: storage\n",
    )
    problems = c.check_roles(broken(project, bicep_text=text))
    assert any("Azure Service Bus Data Sender" in p for p in problems), problems


def test_a_role_the_code_needs_follows_the_code(project):
    # Code that starts using Azure AI Search tokens needs the search roles.
    code = project.code.replace("https://search.azure.com/.default", "")
    assert not any(r.startswith("Search") for r, _, _ in c.needed_roles(broken(project, code=code)))
    assert any(r == "Search Index Data Contributor" for r, _, _ in c.needed_roles(project))


def test_host_json_disagreeing_is_caught(project):
    host = copy.deepcopy(project.host_json)
    host["customHandler"]["description"]["defaultExecutablePath"] = "app"
    host["functionTimeout"] = "00:30:00"
    problems = c.check_host_and_functions(broken(project, host_json=host))
    assert any("defaultExecutablePath" in p for p in problems), problems
    assert any("functionTimeout" in p for p in problems), problems


def test_a_function_folder_not_packaged_is_caught(project):
    functions = dict(project.functions, reports=project.functions["nightly"])
    problems = c.check_host_and_functions(broken(project, functions=functions))
    assert any("handlers/functions/reports is not in the FUNCTIONS list" in p for p in problems), problems


def test_a_meta_url_no_function_serves_is_caught(project):
    functions = copy.deepcopy(project.functions)
    functions["meta-callbacks"]["bindings"][0]["route"] = "facebook/{*path}"
    problems = c.check_host_and_functions(broken(project, functions=functions))
    assert any("deauthorizeCallbackUrl" in p and "served by no HTTP function" in p for p in problems), problems


def test_a_timer_schedule_drifting_from_the_local_one_is_caught(project):
    functions = copy.deepcopy(project.functions)
    functions["nightly"]["bindings"][0]["schedule"] = "0 0 3 * * *"
    assert c.check_timers(broken(project, functions=functions)) != []


def test_postgres_profile_is_checked(project):
    text = edited(project.bicep_text, "    value: 'PG_TRGM,BTREE_GIN'\n", "    value: 'PG_TRGM'\n")
    text = edited(text, "param maximumInstanceCount int = 2", "param maximumInstanceCount int = 40")
    problems = c.check_postgres(broken(project, bicep_text=text))
    assert any("btree_gin" in p for p in problems), problems
    assert any("exceed what Standard_B1ms allows" in p for p in problems), problems


def test_more_concurrent_turns_than_connections_is_caught(project):
    host = copy.deepcopy(project.host_json)
    host["extensions"]["serviceBus"]["maxConcurrentCalls"] = 16
    problems = c.check_postgres(broken(project, host_json=host))
    assert any("maxConcurrentCalls" in p for p in problems), problems


def test_the_identity_must_stay_a_postgres_admin(project):
    text = edited(project.bicep_text, "    principalId: identity.properties.principalId\n    principalName", "    principalId: 'someone-else'\n    principalName")
    problems = c.check_postgres(broken(project, bicep_text=text))
    assert any("Microsoft Entra administrator" in p for p in problems), problems


def test_a_registry_module_is_caught(project):
    text = edited(project.bicep_text, "module postgresEntraAdmin 'modules/postgres-entra-admin.bicep'", "module postgresEntraAdmin 'br/public:avm/res/x:1.0.0'")
    assert any("not a local file" in p for p in c.check_modules(broken(project, bicep_text=text)))


def test_a_required_parameter_nobody_passes_is_caught(project):
    text = edited(project.bicep_text, "param alertEmail string\n", "param alertEmail string\nparam brandNewRequired string\n")
    problems = c.check_parameters(broken(project, bicep_text=text))
    assert problems == ["parameter brandNewRequired has no default and neither main.parameters.json nor the workflow passes it"]
    params = json.loads(json.dumps(project.parameters_file))
    params["parameters"]["tokenEncryptionKey"] = {"value": "x"}
    assert any("secure" in p for p in c.check_parameters(broken(project, parameters_file=params)))
