"""Policy, operator and TTL constants with the official `aerospike` module's names and values.

Code written for minikv uses `minikv.POLICY_GEN_EQ` where it would use `aerospike.POLICY_GEN_EQ`;
the numbers are the same, so policy dicts carry over unchanged.
"""

# exists policy: what a write does when the record does / does not exist
POLICY_EXISTS_IGNORE = 0  # create or update (merge bins): the default
POLICY_EXISTS_CREATE = 1  # create only; RecordExistsError if it exists
POLICY_EXISTS_UPDATE = 2  # update only (merge bins); RecordNotFound if absent
POLICY_EXISTS_REPLACE = 3  # replace all bins; RecordNotFound if absent
POLICY_EXISTS_CREATE_OR_REPLACE = 4  # create, or replace all bins

# generation policy: optimistic concurrency against meta={"gen": g}
POLICY_GEN_IGNORE = 0
POLICY_GEN_EQ = 1  # apply only if the record's generation == g
POLICY_GEN_GT = 2  # apply only if g > the record's generation (restores)

# key policy: store only the digest (default) or the user key too
POLICY_KEY_DIGEST = 0
POLICY_KEY_SEND = 1

# commit level: when a replicated write is acknowledged (used once there are replicas)
POLICY_COMMIT_LEVEL_ALL = 0
POLICY_COMMIT_LEVEL_MASTER = 1

# read policy "read_mode_sc": how a read in a strong-consistency namespace may be served
POLICY_READ_MODE_SC_SESSION = 0  # the master (default): read-your-writes, monotonic
POLICY_READ_MODE_SC_LINEARIZE = 1  # the master, after its replicas confirm its regime
POLICY_READ_MODE_SC_ALLOW_REPLICA = 2  # the master or a replica with a full copy
POLICY_READ_MODE_SC_ALLOW_UNAVAILABLE = 3  # any copy, even of an unavailable partition

# replica policy: which copy a read goes to
POLICY_REPLICA_MASTER = 0
POLICY_REPLICA_ANY = 1
POLICY_REPLICA_SEQUENCE = 2

# operate() operators
OPERATOR_READ = 0
OPERATOR_WRITE = 1
OPERATOR_INCR = 6
OPERATOR_APPEND = 9
OPERATOR_PREPEND = 10
OPERATOR_TOUCH = 11
OPERATOR_DELETE = 14

# TTL specials, as unsigned 32-bit values (the client also accepts -1, -2, -3)
TTL_NAMESPACE_DEFAULT = 0
TTL_NEVER_EXPIRE = 0xFFFFFFFF  # -1
TTL_DONT_UPDATE = 0xFFFFFFFE  # -2: keep the record's current expiry
TTL_CLIENT_DEFAULT = 0xFFFFFFFD  # -3: use the client's write policy ttl
