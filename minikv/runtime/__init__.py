"""What moves bytes and time for the pure node logic in `minikv.core`.

`codec` turns messages into length-prefixed msgpack frames and back; `net` serves a node over
asyncio TCP; `process` runs nodes as OS processes (`LocalCluster`); `sim` runs them in one
process under a virtual clock and a seeded network (`SimCluster`).
"""
