package depot.protocol;

/**
 * Every event-bus address Depot uses, in one place. The event bus carries control messages only;
 * file bytes travel over HTTP streams between nodes.
 */
public final class Addresses {
  private Addresses() {}

  // directory: the registry every node and client finds the others through
  public static final String DIRECTORY_REGISTER = "depot.directory.register";
  public static final String DIRECTORY_LOOKUP = "depot.directory.lookup";
  public static final String DIRECTORY_UNREGISTER = "depot.directory.unregister";
  public static final String DIRECTORY_HEARTBEAT = "depot.directory.heartbeat";
  public static final String DIRECTORY_NODES = "depot.directory.nodes";
  /** Published: node.up, node.down, node.registered, node.unregistered. */
  public static final String DIRECTORY_EVENTS = "depot.directory.events";

  // coordinator: the metadata master (only the leading coordinator consumes these)
  public static final String COORDINATOR_CLIENT_REGISTER = "depot.coordinator.client.register";
  public static final String COORDINATOR_CLIENT_AUTHENTICATE = "depot.coordinator.client.authenticate";
  public static final String COORDINATOR_CLIENT_LIST = "depot.coordinator.client.list";
  /** Starts a deposit: answers either the file record (content already held, nothing to upload) or an allocation. */
  public static final String COORDINATOR_DEPOSIT_BEGIN = "depot.coordinator.deposit.begin";
  public static final String COORDINATOR_DEPOSIT_COMMIT = "depot.coordinator.deposit.commit";
  public static final String COORDINATOR_DEPOSIT_ABORT = "depot.coordinator.deposit.abort";
  public static final String COORDINATOR_FILE_LIST = "depot.coordinator.file.list";
  public static final String COORDINATOR_FILE_LOCATE = "depot.coordinator.file.locate";
  public static final String COORDINATOR_FILE_DELETE = "depot.coordinator.file.delete";
  public static final String COORDINATOR_FILE_REPLICAS = "depot.coordinator.file.replicas";
  public static final String COORDINATOR_REPLICA_CORRUPT = "depot.coordinator.replica.corrupt";
  /** Sent by a gateway or storage node that could not reach a storage node, or lost it mid-stream. */
  public static final String COORDINATOR_NODE_SUSPECT = "depot.coordinator.node.suspect";
  public static final String COORDINATOR_STATS = "depot.coordinator.stats";
  /** The last Berkeley clock-synchronisation round: offsets and corrections per node. */
  public static final String COORDINATOR_CLOCKS = "depot.coordinator.clocks";
  /** Published: file.deposited, file.deleted, file.replicas, replica.added, replica.removed. */
  public static final String COORDINATOR_EVENTS = "depot.coordinator.events";

  // catalog replication: the leading coordinator ships every journaled operation to its followers
  /** Consumed by the leading coordinator: a follower (standby coordinator or storage node) asks to follow. */
  public static final String CATALOG_FOLLOW = "depot.catalog.follow";
  /** Consumed by the leading coordinator: one page of a snapshot a catching-up follower is fetching. */
  public static final String CATALOG_SNAPSHOT = "depot.catalog.snapshot";
  /** Per follower: {@code depot.catalog.replica.<nodeId>} takes appended operations, answers status and snapshot pages. */
  public static final String CATALOG_REPLICA_PREFIX = "depot.catalog.replica.";

  public static String catalogReplica(String nodeId) {
    return CATALOG_REPLICA_PREFIX + nodeId;
  }

  // elections: rank-based, one group per role that has a leader
  /** Per group: {@code depot.election.<group>} carries the candidates' beacons (and election triggers). */
  public static final String ELECTION_PREFIX = "depot.election.";
  /** Published: leader.elected {group, leader, term, rank}. */
  public static final String ELECTION_EVENTS = "depot.election.events";

  public static String election(String group) {
    return ELECTION_PREFIX + group;
  }

  /** Per storage node: {@code depot.storage.node.<nodeId>} takes delete/replicate/inventory commands. */
  public static final String STORAGE_NODE_PREFIX = "depot.storage.node.";

  public static String storageNode(String nodeId) {
    return STORAGE_NODE_PREFIX + nodeId;
  }

  /** Per node: {@code depot.node.clock.<nodeId>} answers clock reads and takes corrections (Berkeley). */
  public static final String NODE_CLOCK_PREFIX = "depot.node.clock.";

  public static String nodeClock(String nodeId) {
    return NODE_CLOCK_PREFIX + nodeId;
  }
}
