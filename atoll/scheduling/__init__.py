"""Which pod a new resource goes to: availability zones made of pods, project bindings,
and a weigher choosing among healthy pods."""
