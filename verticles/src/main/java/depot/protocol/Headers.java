package depot.protocol;

/** HTTP header names of Depot's public API and of its node-to-node data path. */
public final class Headers {
  private Headers() {}

  public static final String SHA256 = "X-Depot-Sha256";
  public static final String DEDUP = "X-Depot-Dedup";
  public static final String VERSION = "X-Depot-Version";
  /** Remaining replicas of a write pipeline: comma-separated {@code nodeId=http://host:port}. */
  public static final String PIPELINE = "X-Depot-Pipeline";
  /** Shared secret that storage nodes require on their internal endpoints. */
  public static final String CLUSTER_SECRET = "X-Depot-Cluster-Secret";
  /** On a node-to-node read: the bytes are a repair copy, sent within the source's repair bandwidth. */
  public static final String REPAIR = "X-Depot-Repair";
  /**
   * On a pipeline write from one storage node to the next: the sender checks this copy against its own
   * chunk by chunk, so the receiver need not hash the whole content when its SHA-256 is announced.
   */
  public static final String UPSTREAM = "X-Depot-Upstream";
  /**
   * To the head of a deposit's pipeline: how many replicas must be written for the deposit to count. A head
   * that loses its next hop, and with it every copy after, fails at once if its own copy alone is too few.
   */
  public static final String WRITE_QUORUM = "X-Depot-Write-Quorum";
  /**
   * On a deposit: storage nodes (their base URLs, comma-separated) that this client lost in an earlier try,
   * unreachable or cut off while it sent a body straight to them. Its deposit goes elsewhere when it can.
   */
  public static final String AVOID = "X-Depot-Avoid";
  /**
   * On a direct-read redirect from a gateway whose cluster allows local reads: a signed link to where the
   * replica lies on its node's disk, for a client on that host to read the file itself.
   */
  public static final String LOCAL_READ = "X-Depot-Local-Read";
  /** On a registration: the same key on every try registers one client (see {@code ClientCredentials}). */
  public static final String IDEMPOTENCY_KEY = "Idempotency-Key";
}
