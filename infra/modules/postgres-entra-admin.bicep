// The app's managed identity as a Microsoft Entra administrator of the PostgreSQL server.
// A module because the administrator's resource name is the identity's object id, which is
// known only once the identity exists (a name must be known when a deployment starts).

@description('Name of the existing PostgreSQL Flexible Server.')
param serverName string

@description('Object (principal) id of the managed identity.')
param principalId string

@description('Name of the managed identity (its Postgres role gets this name).')
param principalName string

resource server 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' existing = {
  name: serverName
}

resource admin 'Microsoft.DBforPostgreSQL/flexibleServers/administrators@2024-08-01' = {
  parent: server
  name: principalId
  properties: {
    principalType: 'ServicePrincipal'
    principalName: principalName
    tenantId: subscription().tenantId
  }
}
