"""The OpenStack API gateway: one endpoint over all pods (`/compute`, `/volume`, `/image`, `/network`).

A proxy, not a model of the services' schemas. A request goes

    dispatcher (atoll.web.dispatch)  path prefix -> the gateway app
    app        version documents; microversion negotiation; the service's `Router`
    handler    per resource: scheduled (pipeline + routing), global (every pod),
               merged lists (fan-out), central (the top Neutron)
    proxy      forward to a pod with the user's token; relay with pods' URLs rewritten

Errors Atoll answers itself use the service's own body (`faults`). Which resources
exist and how they are placed is declared in `atoll.resources`.
"""
