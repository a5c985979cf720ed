// Private DNS for an internal Container Apps environment: a zone named after the environment's
// default domain, linked to the VNet, with a wildcard A record to the internal load balancer.
// Without it the front end could not resolve owner-N.<defaultDomain> from the VNet.

@description('Zone name: the default domain of the Container Apps environment.')
param zoneName string

@description('Resource id of the virtual network that resolves the zone.')
param vnetId string

@description('Private IP of the environment\'s internal load balancer.')
param ipAddress string

@description('Tags applied to the zone.')
param tags object = {}

resource zone 'Microsoft.Network/privateDnsZones@2024-06-01' = {
  name: zoneName
  location: 'global'
  tags: tags
}

resource vnetLink 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = {
  parent: zone
  name: 'region-vnet'
  location: 'global'
  tags: tags
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: vnetId
    }
  }
}

resource wildcard 'Microsoft.Network/privateDnsZones/A@2024-06-01' = {
  parent: zone
  name: '*'
  properties: {
    ttl: 300
    aRecords: [
      {
        ipv4Address: ipAddress
      }
    ]
  }
}
