// IG-Shop-Agent: everything one deployment needs, in one resource group.
//
//   az deployment group create -g <rg> -f infra/main.bicep -p infra/main.parameters.json \
//     -p postgresAdminPassword=… appDbPassword=… tokenEncryptionKey=… instagramAppSecret=… \
//        metaAppSecret=… metaVerifyToken=…
//
// Plain resources and local modules only (no registry modules: they cannot be resolved offline). The app reads
// the settings of local.settings.example.json; infra/tests/test_consistency.py fails when this
// file and the binary (settings, function.json files, host.json, roles) stop agreeing.
// docs/deploy.md walks through a first deployment; docs/costs.md prices the SKUs below.

targetScope = 'resourceGroup'

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

@description('Short lower-case name used in every resource name (3-11 letters or digits).')
@minLength(3)
@maxLength(11)
param name string = 'igshop'

@description('Region of every resource except the Static Web App.')
param location string = resourceGroup().location

@description('Static Web Apps exist in a few regions only (westeurope, eastus2, centralus, westus2, eastasia).')
param staticWebAppLocation string = 'westeurope'

@description('flex = Flex Consumption (FC1, the target); consumption = Linux Consumption (Y1) for regions without Flex (retires 2028-09-30).')
@allowed([
  'flex'
  'consumption'
])
param hosting string = 'flex'

@description('Flex: memory per instance (512, 2048 or 4096 MB).')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Flex: most instances. Each holds databasePoolSize + max(2, databasePoolSize/4) Postgres connections; Standard_B1ms leaves 35 to applications (50, of which Azure keeps 15).')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 2

@description('Flex: always-ready instances for the HTTP functions (0 = scale to zero; 1 removes cold starts for webhooks and the dashboard at a monthly cost, see docs/costs.md).')
@minValue(0)
@maxValue(10)
param alwaysReadyHttpInstances int = 0

@description('Application connections per instance (DATABASE_POOL_SIZE). An agent turn holds one for its whole length (the conversation lock), so it must exceed host.json serviceBus.maxConcurrentCalls.')
@minValue(1)
@maxValue(50)
param databasePoolSize int = 10

@description('azure = Azure AI Search Basic (production); postgres = search inside PostgreSQL (the low-cost profile, small catalogs only).')
@allowed([
  'azure'
  'postgres'
])
param searchBackend string = 'azure'

@description('Chat model behind the deployment named gpt4o. gpt-4o and gpt-4o-mini are closed to new Azure customers; see docs/decisions.md.')
param chatModelName string = 'gpt-5.4-mini'

@description('Version of chatModelName.')
param chatModelVersion string = '2026-03-17'

@description('Deployment type of the chat model (GlobalStandard is available to new subscriptions in most regions).')
param chatDeploymentSku string = 'GlobalStandard'

@description('Chat capacity in thousands of tokens per minute.')
@minValue(1)
param chatCapacity int = 100

@description('Embedding model behind the deployment named embedding-small (1536 dimensions).')
param embeddingModelName string = 'text-embedding-3-small'

@description('Version of embeddingModelName.')
param embeddingModelVersion string = '1'

@description('Deployment type of the embedding model.')
param embeddingDeploymentSku string = 'GlobalStandard'

@description('Embedding capacity in thousands of tokens per minute.')
@minValue(1)
param embeddingCapacity int = 100

@description('Azure OpenAI REST API version the app calls.')
param openAiApiVersion string = '2024-10-21'

@description('LLM_PRICES: USD per million tokens (input/cached/output) by deployment name. Must match the models above, or the dashboards and the cost alert are wrong.')
param llmPrices string = 'gpt4o=0.75/0.075/4.50;embedding-small=0.02/0/0'

@description('Public origin of the product: empty = the Static Web App\'s own https address; set it to your custom domain once it is bound.')
param publicBaseUrl string = ''

@description('Instagram app id (Meta dashboard → Instagram → API setup with Instagram login).')
param instagramAppId string

@description('Graph API version the app calls.')
param instagramGraphVersion string = 'v23.0'

@description('The licence public key (SPKI PEM from `handler licence keygen`). Empty: no shop gets AI replies (licences fail closed) until it is set.')
param licencePublicKey string = ''

@secure()
@description('Instagram app secret.')
param instagramAppSecret string

@secure()
@description('Meta app secret (App settings → Basic).')
param metaAppSecret string

@secure()
@description('Webhook verify token: a long random string, also entered in the Meta dashboard.')
param metaVerifyToken string

@secure()
@description('32 random bytes, base64 (openssl rand -base64 32). Never change it on a live system: it seals the stored Instagram tokens.')
param tokenEncryptionKey string

@description('Administrator login of the PostgreSQL server (owns the schema, runs migrations).')
param postgresAdminLogin string = 'igshop_admin'

@secure()
@description('Password of postgresAdminLogin.')
param postgresAdminPassword string

@description('Application login (no BYPASSRLS); created once by the deployment workflow, see docs/deploy.md.')
param appDbUser string = 'igshop_app'

@secure()
@description('Password of appDbUser.')
param appDbPassword string

@description('Database name.')
param databaseName string = 'igshop'

@description('public = firewall rules (Azure services + postgresAllowedIpRanges); private = no public access (bring your own VNet integration and private DNS).')
@allowed([
  'public'
  'private'
])
param postgresNetwork string = 'public'

@description('Extra client ranges allowed through the PostgreSQL firewall, e.g. [{ name: \'office\', start: \'203.0.113.10\', end: \'203.0.113.10\' }].')
param postgresAllowedIpRanges array = []

@description('Where alerts are e-mailed.')
param alertEmail string

@description('Model cost per day (USD) above which the cost alert fires.')
param dailyModelCostAlertUsd int = 20

@description('Tags on every resource.')
param tags object = {
  app: 'ig-shop-agent'
}

// ---------------------------------------------------------------------------------------------
// Names and fixed values (the binary's defaults and function.json files use the same ones)
// ---------------------------------------------------------------------------------------------

var suffix = uniqueString(resourceGroup().id, name)
var isFlex = hosting == 'flex'
// (Conditions are named variables: pycep-parser, which the consistency check uses, reads
// `a > 0 ? x : y` as `a > (0 ? x : y)`.)
var hasAlwaysReady = alwaysReadyHttpInstances > 0
var useAzureSearch = searchBackend == 'azure'
var queueName = 'dm-inbound'
var queueMaxDeliveries = 10
var knowledgeContainerName = 'igshop'
var licenceContainerName = 'licences'
var deploymentContainerName = 'app-package'
var packageBlobName = 'handler.zip'
var chatDeploymentName = 'gpt4o'
var embeddingDeploymentName = 'embedding-small'
var embeddingDimensions = 1536
var searchIndexName = 'igshop'
var storageName = take(toLower('st${name}${suffix}'), 24)
var functionAppName = 'func-${name}-${suffix}'
var keyVaultName = take('kv-${name}-${suffix}', 24)
var postgresIsPublic = postgresNetwork == 'public'
var postgresClientRangeList = postgresIsPublic ? postgresAllowedIpRanges : []
var publicOrigin = empty(publicBaseUrl) ? 'https://${staticWebApp.properties.defaultHostname}' : publicBaseUrl

// Built-in role definitions (ids are the same in every Azure cloud).
var roles = {
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  searchIndexDataContributor: '8ebe5a00-799e-43f5-93ac-243d3dce84a7'
  searchServiceContributor: '7ca78c08-252a-4471-8644-bb5ff32d4ba0'
  cognitiveServicesOpenAIUser: '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

// ---------------------------------------------------------------------------------------------
// Identity: one user-assigned identity for the app, with the least roles it needs
// ---------------------------------------------------------------------------------------------

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${name}-${suffix}'
  location: location
  tags: tags
}

// ---------------------------------------------------------------------------------------------
// Monitoring
// ---------------------------------------------------------------------------------------------

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${name}-${suffix}'
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${name}-${suffix}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    DisableLocalAuth: true
  }
}

// ---------------------------------------------------------------------------------------------
// Storage: host storage (identity-based), knowledge files, licences, the deployment package
// ---------------------------------------------------------------------------------------------

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    supportsHttpsTrafficOnly: true
    defaultToOAuthAuthentication: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource knowledgeContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: knowledgeContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource licenceContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: licenceContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

// ---------------------------------------------------------------------------------------------
// Key Vault (RBAC): every secret; the app reads them through Key Vault references
// ---------------------------------------------------------------------------------------------

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: keyVaultName
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

resource secretTokenKey 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: keyVault
  name: 'token-encryption-key'
  properties: {
    value: tokenEncryptionKey
  }
}

resource secretDatabaseUrl 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: keyVault
  name: 'database-url'
  properties: {
    value: 'postgres://${appDbUser}:${uriComponent(appDbPassword)}@${postgres.properties.fullyQualifiedDomainName}:5432/${databaseName}?sslmode=require'
  }
}

resource secretDatabaseAdminUrl 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: keyVault
  name: 'database-admin-url'
  properties: {
    value: 'postgres://${postgresAdminLogin}:${uriComponent(postgresAdminPassword)}@${postgres.properties.fullyQualifiedDomainName}:5432/${databaseName}?sslmode=require'
  }
}

resource secretInstagramAppSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: keyVault
  name: 'instagram-app-secret'
  properties: {
    value: instagramAppSecret
  }
}

resource secretMetaAppSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: keyVault
  name: 'meta-app-secret'
  properties: {
    value: metaAppSecret
  }
}

resource secretMetaVerifyToken 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: keyVault
  name: 'meta-verify-token'
  properties: {
    value: metaVerifyToken
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL Flexible Server 16, Burstable B1ms, 32 GB; password and Entra sign-in
// ---------------------------------------------------------------------------------------------

resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: 'psql-${name}-${suffix}'
  location: location
  tags: tags
  sku: {
    name: 'Standard_B1ms'
    tier: 'Burstable'
  }
  properties: {
    version: '16'
    administratorLogin: postgresAdminLogin
    administratorLoginPassword: postgresAdminPassword
    authConfig: {
      activeDirectoryAuth: 'Enabled'
      passwordAuth: 'Enabled'
      tenantId: subscription().tenantId
    }
    storage: {
      storageSizeGB: 32
      autoGrow: 'Enabled'
    }
    backup: {
      backupRetentionDays: 7
      geoRedundantBackup: 'Disabled'
    }
    highAvailability: {
      mode: 'Disabled'
    }
    network: {
      publicNetworkAccess: postgresIsPublic ? 'Enabled' : 'Disabled'
    }
  }
}

// Flexible Server runs one change at a time: its children are chained with dependsOn.
resource postgresDatabase 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: postgres
  name: databaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
  dependsOn: [
    postgresEntraAdmin
  ]
}

// The migrations create pg_trgm and btree_gin; extensions must be allow-listed before CREATE EXTENSION.
resource postgresExtensions 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2024-08-01' = {
  parent: postgres
  name: 'azure.extensions'
  properties: {
    value: 'PG_TRGM,BTREE_GIN'
    source: 'user-override'
  }
}

// The app's identity may sign in with an Entra token as its password (DATABASE_AUTH=entra).
module postgresEntraAdmin 'modules/postgres-entra-admin.bicep' = {
  name: 'postgres-entra-admin'
  params: {
    serverName: postgres.name
    principalId: identity.properties.principalId
    principalName: identity.name
  }
  dependsOn: [
    postgresExtensions
  ]
}

// 0.0.0.0 is Azure's "allow Azure services" rule (Flex Consumption has no fixed outbound IPs).
resource postgresAllowAzure 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01' = if (postgresIsPublic) {
  parent: postgres
  name: 'AllowAllAzureServicesAndResourcesWithinAzureIps'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
  dependsOn: [
    postgresDatabase
  ]
}

@batchSize(1)
resource postgresClientRanges 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01' = [for ipRange in postgresClientRangeList: {
  parent: postgres
  name: ipRange.name
  properties: {
    startIpAddress: ipRange.start
    endIpAddress: ipRange.end
  }
  dependsOn: [
    postgresDatabase
    postgresAllowAzure
  ]
}]

// ---------------------------------------------------------------------------------------------
// Service Bus Basic: the dm-inbound queue the agent function is bound to
// ---------------------------------------------------------------------------------------------

resource serviceBus 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' = {
  name: 'sb-${name}-${suffix}'
  location: location
  tags: tags
  sku: {
    name: 'Basic'
    tier: 'Basic'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
  }
}

// Basic refuses autoDeleteOnIdle, sessions and duplicate detection; lockDuration is at most
// 5 minutes, which is also host.json's functionTimeout (the longest an agent turn may run).
resource dmInboundQueue 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' = {
  parent: serviceBus
  name: queueName
  properties: {
    maxDeliveryCount: queueMaxDeliveries
    lockDuration: 'PT5M'
    deadLetteringOnMessageExpiration: true
    defaultMessageTimeToLive: 'P14D'
    maxSizeInMegabytes: 1024
    requiresSession: false
    requiresDuplicateDetection: false
    enablePartitioning: false
  }
}

// ---------------------------------------------------------------------------------------------
// Azure AI Search Basic (left out in the low-cost profile)
// ---------------------------------------------------------------------------------------------

resource search 'Microsoft.Search/searchServices@2023-11-01' = if (useAzureSearch) {
  name: 'srch-${name}-${suffix}'
  location: location
  tags: tags
  sku: {
    name: 'basic'
  }
  properties: {
    replicaCount: 1
    partitionCount: 1
    hostingMode: 'default'
    publicNetworkAccess: 'enabled'
    authOptions: {
      aadOrApiKey: {
        aadAuthFailureMode: 'http401WithBearerChallenge'
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Azure OpenAI: deployment names are fixed (the app's defaults), the models are parameters
// ---------------------------------------------------------------------------------------------

resource openAi 'Microsoft.CognitiveServices/accounts@2024-10-01' = {
  name: 'oai-${name}-${suffix}'
  location: location
  tags: tags
  kind: 'OpenAI'
  sku: {
    name: 'S0'
  }
  properties: {
    customSubDomainName: 'oai-${name}-${suffix}'
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

resource chatDeployment 'Microsoft.CognitiveServices/accounts/deployments@2024-10-01' = {
  parent: openAi
  name: chatDeploymentName
  sku: {
    name: chatDeploymentSku
    capacity: chatCapacity
  }
  properties: {
    model: {
      format: 'OpenAI'
      name: chatModelName
      version: chatModelVersion
    }
    versionUpgradeOption: 'NoAutoUpgrade'
  }
}

// One deployment at a time per account: the embedding waits for the chat deployment.
resource embeddingDeployment 'Microsoft.CognitiveServices/accounts/deployments@2024-10-01' = {
  parent: openAi
  name: embeddingDeploymentName
  sku: {
    name: embeddingDeploymentSku
    capacity: embeddingCapacity
  }
  properties: {
    model: {
      format: 'OpenAI'
      name: embeddingModelName
      version: embeddingModelVersion
    }
    versionUpgradeOption: 'NoAutoUpgrade'
  }
  dependsOn: [
    chatDeployment
  ]
}

// ---------------------------------------------------------------------------------------------
// Function App: Flex Consumption (custom handler) or Linux Consumption
// ---------------------------------------------------------------------------------------------

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${name}-${suffix}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: isFlex ? {
    name: 'FC1'
    tier: 'FlexConsumption'
  } : {
    name: 'Y1'
    tier: 'Dynamic'
  }
  properties: {
    reserved: true
  }
}

// Settings the host reads (identity-based connections) and the binary reads (its names are
// those of local.settings.example.json). Secrets are Key Vault references only.
var appSettings = [
  // Functions host
  { name: 'AzureWebJobsStorage__blobServiceUri', value: storage.properties.primaryEndpoints.blob }
  { name: 'AzureWebJobsStorage__queueServiceUri', value: storage.properties.primaryEndpoints.queue }
  { name: 'AzureWebJobsStorage__tableServiceUri', value: storage.properties.primaryEndpoints.table }
  { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
  { name: 'AzureWebJobsStorage__clientId', value: identity.properties.clientId }
  { name: 'ServiceBusConnection__fullyQualifiedNamespace', value: '${serviceBus.name}.servicebus.windows.net' }
  { name: 'ServiceBusConnection__credential', value: 'managedidentity' }
  { name: 'ServiceBusConnection__clientId', value: identity.properties.clientId }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: appInsights.properties.ConnectionString }
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identity.properties.clientId};Authorization=AAD' }
  // The binary
  { name: 'IGSHOP_ENV', value: 'production' }
  { name: 'RUST_LOG', value: 'info' }
  { name: 'LOG_FORMAT', value: 'json' }
  { name: 'PUBLIC_BASE_URL', value: publicOrigin }
  { name: 'TOKEN_ENCRYPTION_KEY', value: '@Microsoft.KeyVault(VaultName=${keyVault.name};SecretName=token-encryption-key)' }
  { name: 'DATABASE_URL', value: '@Microsoft.KeyVault(VaultName=${keyVault.name};SecretName=database-url)' }
  { name: 'DATABASE_ADMIN_URL', value: '@Microsoft.KeyVault(VaultName=${keyVault.name};SecretName=database-admin-url)' }
  { name: 'DATABASE_POOL_SIZE', value: string(databasePoolSize) }
  // Both Key Vault URLs carry passwords; see docs/deploy.md for token sign-in (DATABASE_AUTH=entra).
  { name: 'DATABASE_AUTH', value: 'password' }
  { name: 'QUEUE_BACKEND', value: 'servicebus' }
  { name: 'QUEUE_NAME', value: queueName }
  { name: 'QUEUE_MAX_DELIVERIES', value: string(queueMaxDeliveries) }
  { name: 'SERVICEBUS_NAMESPACE', value: '${serviceBus.name}.servicebus.windows.net' }
  { name: 'AZURE_STORAGE_BLOB_ENDPOINT', value: 'https://${storage.name}.blob.${environment().suffixes.storage}' }
  { name: 'BLOB_CONTAINER', value: knowledgeContainerName }
  // whitelist.sig, published by `handler licence publish` or the admin console (docs/licensing.md)
  { name: 'LICENCE_WHITELIST_BLOB', value: 'licence/whitelist.sig' }
  { name: 'LICENCE_PUBLIC_KEY', value: licencePublicKey }
  { name: 'AZURE_CLIENT_ID', value: identity.properties.clientId }
  { name: 'INSTAGRAM_APP_ID', value: instagramAppId }
  { name: 'INSTAGRAM_APP_SECRET', value: '@Microsoft.KeyVault(VaultName=${keyVault.name};SecretName=instagram-app-secret)' }
  { name: 'META_APP_SECRET', value: '@Microsoft.KeyVault(VaultName=${keyVault.name};SecretName=meta-app-secret)' }
  { name: 'META_VERIFY_TOKEN', value: '@Microsoft.KeyVault(VaultName=${keyVault.name};SecretName=meta-verify-token)' }
  { name: 'INSTAGRAM_GRAPH_VERSION', value: instagramGraphVersion }
  { name: 'SEARCH_BACKEND', value: searchBackend }
  { name: 'AZURE_SEARCH_ENDPOINT', value: useAzureSearch ? 'https://${search.name}.search.windows.net' : '' }
  { name: 'AZURE_SEARCH_INDEX', value: searchIndexName }
  { name: 'EMBEDDING_DIMENSIONS', value: string(embeddingDimensions) }
  { name: 'LLM_PROVIDER', value: 'azure' }
  { name: 'AZURE_OPENAI_ENDPOINT', value: openAi.properties.endpoint }
  { name: 'AZURE_OPENAI_CHAT_DEPLOYMENT', value: chatDeploymentName }
  { name: 'AZURE_OPENAI_CHAT_MODEL', value: chatModelName }
  { name: 'AZURE_OPENAI_EMBEDDING_DEPLOYMENT', value: embeddingDeploymentName }
  { name: 'AZURE_OPENAI_API_VERSION', value: openAiApiVersion }
  { name: 'LLM_PRICES', value: llmPrices }
]

// Linux Consumption has no functionAppConfig: the runtime and the package come from settings.
// The package is the blob the workflow uploads, read with the app's identity.
var consumptionSettings = [
  { name: 'FUNCTIONS_WORKER_RUNTIME', value: 'custom' }
  { name: 'FUNCTIONS_EXTENSION_VERSION', value: '~4' }
  { name: 'WEBSITE_RUN_FROM_PACKAGE', value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}/${packageBlobName}' }
  { name: 'WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID', value: identity.id }
]

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identity.id
    functionAppConfig: isFlex ? {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        alwaysReady: hasAlwaysReady ? [
          {
            name: 'http'
            instanceCount: alwaysReadyHttpInstances
          }
        ] : []
      }
      runtime: {
        name: 'custom'
        version: '1.0'
      }
    } : null
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: isFlex ? appSettings : concat(appSettings, consumptionSettings)
    }
  }
  dependsOn: [
    roleStorageBlobDataOwner
    roleKeyVaultSecretsUser
    roleMonitoringMetricsPublisher
    secretTokenKey
    secretDatabaseUrl
    secretDatabaseAdminUrl
    secretInstagramAppSecret
    secretMetaAppSecret
    secretMetaVerifyToken
    deploymentContainer
    knowledgeContainer
  ]
}

// ---------------------------------------------------------------------------------------------
// Role assignments of the app's identity (each on the one resource it needs)
// ---------------------------------------------------------------------------------------------

resource roleServiceBusDataSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(serviceBus.id, identity.id, roles.serviceBusDataSender)
  scope: serviceBus
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataSender)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource roleServiceBusDataReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(serviceBus.id, identity.id, roles.serviceBusDataReceiver)
  scope: serviceBus
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataReceiver)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource roleStorageBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource roleKeyVaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, identity.id, roles.keyVaultSecretsUser)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource roleSearchIndexDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (useAzureSearch) {
  name: guid(resourceGroup().id, 'search', identity.id, roles.searchIndexDataContributor)
  scope: search
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.searchIndexDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// The app creates and updates its own index definition (PUT /indexes/{name}).
resource roleSearchServiceContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (useAzureSearch) {
  name: guid(resourceGroup().id, 'search', identity.id, roles.searchServiceContributor)
  scope: search
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.searchServiceContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource roleOpenAIUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(openAi.id, identity.id, roles.cognitiveServicesOpenAIUser)
  scope: openAi
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.cognitiveServicesOpenAIUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Application Insights with local auth off accepts telemetry only from this role.
resource roleMonitoringMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, identity.id, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------------------------------------
// Static Web App (Standard): the SPA, with the Function App as its /api backend
// ---------------------------------------------------------------------------------------------

resource staticWebApp 'Microsoft.Web/staticSites@2023-12-01' = {
  name: 'swa-${name}-${suffix}'
  location: staticWebAppLocation
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    allowConfigFileUpdates: true
    stagingEnvironmentPolicy: 'Disabled'
  }
}

resource staticWebAppBackend 'Microsoft.Web/staticSites/linkedBackends@2023-12-01' = {
  parent: staticWebApp
  name: 'backend'
  properties: {
    backendResourceId: functionApp.id
    region: location
  }
}

// ---------------------------------------------------------------------------------------------
// Alerts (e-mail through one action group)
// ---------------------------------------------------------------------------------------------

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-${name}-${suffix}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: take('igshop${name}', 12)
    enabled: true
    emailReceivers: [
      {
        name: 'operator'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

// The binary logs one JSON line per model call ("model usage", with cost_usd) and one per alert
// it raises ("alert: …", with kind); the host forwards those lines to the traces table.
resource alertModelCost 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = {
  name: 'alert-${name}-model-cost-per-day'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'Model cost per day above ${dailyModelCostAlertUsd} USD'
    severity: 2
    enabled: true
    evaluationFrequency: 'PT1H'
    windowSize: 'P1D'
    scopes: [
      appInsights.id
    ]
    criteria: {
      allOf: [
        {
          query: 'traces | where message has \'"message":"model usage"\' | extend e = parse_json(message) | summarize cost = sum(todouble(e.cost_usd))'
          timeAggregation: 'Total'
          metricMeasureColumn: 'cost'
          operator: 'GreaterThan'
          threshold: dailyModelCostAlertUsd
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

resource alertInstagramTokens 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = {
  name: 'alert-${name}-instagram-token'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'Instagram token expiring or shop must reconnect'
    severity: 2
    enabled: true
    evaluationFrequency: 'PT1H'
    windowSize: 'PT1H'
    scopes: [
      appInsights.id
    ]
    criteria: {
      allOf: [
        {
          query: 'traces | where message has \'"kind":"instagram_reconnect_needed"\' or message has \'"kind":"instagram_token_expiring"\''
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

resource alertWebhookErrors 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = {
  name: 'alert-${name}-webhook-errors'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'Instagram webhook failing (more than 5% of at least 20 requests)'
    severity: 1
    enabled: true
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    scopes: [
      appInsights.id
    ]
    criteria: {
      allOf: [
        {
          query: 'requests | where name == \'instagram-webhook\' | summarize total = count(), failed = countif(success == false) | where total >= 20 | extend rate = 100.0 * failed / total'
          timeAggregation: 'Maximum'
          metricMeasureColumn: 'rate'
          operator: 'GreaterThan'
          threshold: 5
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

resource alertServerErrors 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = {
  name: 'alert-${name}-5xx-rate'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: '5xx answers above 2% of at least 50 requests'
    severity: 1
    enabled: true
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    scopes: [
      appInsights.id
    ]
    criteria: {
      allOf: [
        {
          query: 'requests | summarize total = count(), failed = countif(toint(resultCode) >= 500) | where total >= 50 | extend rate = 100.0 * failed / total'
          timeAggregation: 'Maximum'
          metricMeasureColumn: 'rate'
          operator: 'GreaterThan'
          threshold: 2
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

resource alertDeadLetters 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'alert-${name}-dead-letters'
  location: 'global'
  tags: tags
  properties: {
    description: 'A message of dm-inbound was dead-lettered after its last delivery: a conversation went unanswered.'
    severity: 1
    enabled: true
    scopes: [
      serviceBus.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'deadLettered'
          metricNamespace: 'Microsoft.ServiceBus/namespaces'
          metricName: 'DeadletteredMessages'
          dimensions: [
            {
              name: 'EntityName'
              operator: 'Include'
              values: [
                queueName
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Maximum'
        }
      ]
    }
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

// ---------------------------------------------------------------------------------------------
// Outputs: the addresses the Meta app configuration needs, and where things are
// ---------------------------------------------------------------------------------------------

output publicBaseUrl string = publicOrigin
output staticWebAppUrl string = 'https://${staticWebApp.properties.defaultHostname}'
output staticWebAppName string = staticWebApp.name
output functionAppName string = functionApp.name
output functionAppUrl string = 'https://${functionApp.properties.defaultHostName}'
output webhookCallbackUrl string = '${publicOrigin}/api/instagram/webhook'
output oauthRedirectUrl string = '${publicOrigin}/api/instagram/oauth/callback'
output deauthorizeCallbackUrl string = '${publicOrigin}/api/meta/deauthorize'
output dataDeletionCallbackUrl string = '${publicOrigin}/api/meta/data-deletion'
output deletionStatusUrl string = '${publicOrigin}/api/meta/deletion-status'
output healthUrl string = '${publicOrigin}/api/health'
output keyVaultName string = keyVault.name
output postgresHost string = postgres.properties.fullyQualifiedDomainName
output postgresDatabase string = postgresDatabase.name
output storageAccountName string = storage.name
output deploymentContainerUrl string = '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
output packageBlobName string = packageBlobName
output identityName string = identity.name
output identityClientId string = identity.properties.clientId
output hosting string = hosting
