"""Resource sync between pods (Kingbird's os-sync, done right), on Atoll's jobs.

One request (`POST /v1.0/{project}/os-sync`) becomes one parent job of type `sync`
with a child per (target pod, resource); the parent's status is derived from its
children's, so it is SUCCESS only when every copy is done and one target failing
never hides another's result. Each child is one idempotent, resumable handler that
talks to the pods with Atoll's service credentials (never the caller's token):

    request   validation of both request forms -> the parent job and its children
    calls     one pod call with the service token; transport trouble -> TemporaryError
    keypair   by name, same public key, for the requesting (or an admin-named) user
    flavor    same id, extra specs and access list
    secgroup  same name, description and rules; remote groups mapped by name
    image     same id and properties; data piped source -> target chunk by chunk
    handlers  the job types and their dispatch

A resource that exists in the target and differs is that child's FAIL with a reason
saying what differs, unless the request said `force`; an identical one is SUCCESS.
A handler checkpoints what it created itself, so a retry after a crash finishes
converging its own half-made copy instead of taking it for a differing one.
"""
