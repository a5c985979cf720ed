// The Container Apps environment of one region's owner tier.
//
// Internal (an internal load balancer in the VNet, no public IP): owners are reached only from
// inside the VNet, by the front end's VNet integration. Names under the environment's default
// domain resolve through the private DNS zone made by privateDns.bicep.
// Workload profiles mode (a Consumption profile) so the subnet can be small and delegated.
// Logs go to Azure Monitor and a diagnostic setting routes them to Log Analytics, so no
// workspace shared key is needed anywhere.

@description('Name of the environment.')
param name string

@description('Azure location of the environment.')
param location string

@description('Resource id of the subnet delegated to Microsoft.App/environments.')
param subnetId string

@description('Resource id of the Log Analytics workspace that receives the console and system logs.')
param logAnalyticsWorkspaceId string

@description('Tags applied to the environment.')
param tags object = {}

resource managedEnvironment 'Microsoft.App/managedEnvironments@2025-01-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: {
      destination: 'azure-monitor'
    }
    vnetConfiguration: {
      infrastructureSubnetId: subnetId
      internal: true
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
    ]
    zoneRedundant: false
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: managedEnvironment
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    // Resource-specific tables (ContainerAppConsoleLogs, ContainerAppSystemLogs), not AzureDiagnostics.
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      {
        category: 'ContainerAppConsoleLogs'
        enabled: true
      }
      {
        category: 'ContainerAppSystemLogs'
        enabled: true
      }
    ]
  }
}

@description('Resource id of the environment.')
output id string = managedEnvironment.id

@description('Default domain of the environment; an app named x with ingress is reached at x.<defaultDomain>.')
output defaultDomain string = managedEnvironment.properties.defaultDomain

@description('Private IP of the environment\'s internal load balancer.')
output staticIp string = managedEnvironment.properties.staticIp
