"""Everything Atoll knows of and says to its pods.

- `registry`: the pods in memory (`PodRegistry` -> `PodSnapshot` of `PodInfo`), no SQL per call;
- `client`, `pool`: one pooled aiohttp client per pod behind the `PodClient` Protocol;
- `microversions`: microversion ranges read from each pod's version documents;
- `versions`: what each service's version document looks like (the health probe's check);
- `directory`, `health`: endpoint discovery from the Keystone catalog and health probes
  (run by the engine, written to the database the registry reads).
"""
