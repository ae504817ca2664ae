"""atoll-api's admin API (`/v1.0`): pods, bindings, routings. The gateway is a sibling package."""
