"""Top Neutron objects realized in pods: the central Neutron is the source of truth (networks,
subnets, ports, security groups, IP/MAC allocation); a pod gets a copy of what a server
booted there needs.

    neutron.py    the `Neutron` Protocol (one Neutron API, called with the caller's token)
                  and how its refusals become Atoll errors
    once.py       realize-once: reserve a routing (top id, pod), make or find the bottom
                  object, confirm; a concurrent caller waits for the winner's routing
    realize.py    network + subnets, security groups + rules, port (same fixed IPs and MAC)

Each bottom object is named by its top id, so one made before a crash (between the pod's
answer and the routing's confirmation) is found again instead of made twice.
Not here yet: routers, floating IPs, networks spanning pods at L2, and updates of top
objects after they were realized.
"""
