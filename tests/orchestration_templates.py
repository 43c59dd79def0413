"""HOT templates shared by the orchestration functional and integration tests: a small
web application (network, subnet, router to an external network, security group, two
servers, a volume attached to one, a floating IP) and the server an update adds."""

APP = """
heat_template_version: 2021-04-16
description: a small web application
parameters:
  image: {type: string, constraints: [{custom_constraint: glance.image}]}
  flavor: {type: string, constraints: [{custom_constraint: nova.flavor}]}
  public: {type: string, constraints: [{custom_constraint: neutron.network}]}
  servers: {type: comma_delimited_list, default: "web1,web2"}
resources:
  net: {type: OS::Neutron::Net}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 10.77.0.0/24}
  router:
    type: OS::Neutron::Router
    properties: {external_gateway_info: {network: {get_param: public}}}
  iface:
    type: OS::Neutron::RouterInterface
    properties: {router: {get_resource: router}, subnet: {get_resource: subnet}}
  sg:
    type: OS::Neutron::SecurityGroup
    properties:
      rules: [{protocol: tcp, port_range_min: 80, port_range_max: 80}, {protocol: icmp}]
  port1:
    type: OS::Neutron::Port
    properties: {network: {get_resource: net}, fixed_ips: [{subnet: {get_resource: subnet}}],
                 security_groups: [{get_resource: sg}]}
  web1:
    type: OS::Nova::Server
    properties:
      name: {get_param: [servers, 0]}
      image: {get_param: image}
      flavor: {get_param: flavor}
      networks: [{port: {get_resource: port1}}]
      metadata: {role: web}
      user_data: {str_replace: {template: "echo $name", params: {$name: {get_param: [servers, 0]}}}}
  web2:
    type: OS::Nova::Server
    depends_on: subnet
    properties:
      name: {get_param: [servers, 1]}
      image: {get_param: image}
      flavor: {get_param: flavor}
      networks: [{network: {get_resource: net}}]
  data:
    type: OS::Cinder::Volume
    properties: {size: 1}
  attach:
    type: OS::Cinder::VolumeAttachment
    properties: {instance_uuid: {get_resource: web1}, volume_id: {get_resource: data}}
  fip:
    type: OS::Neutron::FloatingIP
    depends_on: iface
    properties: {floating_network: {get_param: public}, port_id: {get_resource: port1}}
outputs:
  web1_ip: {value: {get_attr: [web1, first_address]}}
  public_ip: {value: {get_attr: [fip, floating_ip_address]}}
  web2_networks: {value: {get_attr: [web2, networks]}}
"""

WEB3 = """
  web3:
    type: OS::Nova::Server
    properties:
      image: {get_param: image}
      flavor: {get_param: flavor}
      networks: [{network: {get_resource: net}}]
"""
