"""The bottom layer: errors and the injected clock. Imports nothing of Atoll's."""
