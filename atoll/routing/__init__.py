"""Where each resource Atoll placed lives: the routing table, cached in memory."""
