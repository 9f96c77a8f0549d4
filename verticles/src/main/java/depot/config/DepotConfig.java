package depot.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A node's settings: built-in defaults, overlaid by the role config from {@code conf/*.json}, overlaid by
 * environment variables. Every key {@code someKey} can be set with {@code DEPOT_SOME_KEY}.
 */
public final class DepotConfig {
  public static final String ROLE_DIRECTORY = "directory";
  public static final String ROLE_COORDINATOR = "coordinator";
  public static final String ROLE_GATEWAY = "gateway";
  public static final String ROLE_STORAGE = "storage";
  public static final Set<String> ALL_ROLES = Set.of(ROLE_DIRECTORY, ROLE_COORDINATOR, ROLE_GATEWAY, ROLE_STORAGE);

  /** What a storage node takes in a batch (BlobBatch.MAX_ENTRY_BYTES). */
  private static final int BATCHED_DEPOSIT_LIMIT = 256 * 1024;

  private static final JsonObject DEFAULTS = new JsonObject()
      .put("roles", new JsonArray().add(ROLE_DIRECTORY).add(ROLE_COORDINATOR).add(ROLE_GATEWAY).add(ROLE_STORAGE))
      .put("nodeId", null)
      .put("dataDir", "data")
      .put("advertisedHost", "127.0.0.1")
      .put("httpHost", "0.0.0.0")
      .put("httpPort", 8080)
      .put("storagePort", 0)
      .put("adminToken", null)
      .put("clusterName", "depot")
      .put("clusterMembers", "127.0.0.1")
      .put("clusterPort", 5701)
      .put("clusterSecret", "")
      .put("nativeTransport", true)
      .put("localReads", false)
      .put("heartbeatIntervalMs", 1000)
      .put("nodeExpiryMs", 4000)
      .put("clockSyncIntervalMs", 10_000)
      .put("scrubBytesPerSecond", 8 * 1024 * 1024)
      .put("scrubPauseMs", 60_000)
      .put("packCompactionIntervalMs", 60_000)
      .put("packRollBytes", 1 << 30)
      .put("packCompactionBytesPerSecond", 32 * 1024 * 1024)
      .put("repairStreamsPerNode", 2)
      .put("repairStreamsTotal", 4)
      .put("repairBytesPerSecond", 256 * 1024 * 1024)
      .put("defaultReplicas", 3)
      .put("maxReplicas", 10)
      .put("writeQuorum", 0)
      .put("chunkSize", 64 * 1024)
      .put("smallBlobMaxBytes", 256 * 1024)
      .put("batchedDepositMaxBytes", 64 * 1024)
      .put("directIoBufferBytes", 48 * 1024 * 1024)
      .put("gcGraceMs", 30_000)
      .put("allocationTimeoutMs", 3_600_000)
      .put("failoverWindowMs", 20_000)
      .put("catalogEagerCopies", 1)
      .put("heapLimitPercent", 90)
      .put("webRoot", "web-ui")
      .put("metricsRegistry", "depot");

  private final JsonObject json;

  private DepotConfig(JsonObject json) {
    this.json = json;
  }

  /** Defaults, then {@code fileConfig}, then the process environment. */
  public static DepotConfig resolve(JsonObject fileConfig) {
    return resolve(fileConfig, System.getenv());
  }

  public static DepotConfig resolve(JsonObject fileConfig, Map<String, String> env) {
    JsonObject merged = DEFAULTS.copy();
    if (fileConfig != null) {
      merged.mergeIn(fileConfig);
    }
    for (String key : DEFAULTS.fieldNames()) {
      String value = env.get(envName(key));
      if (value != null && !value.isBlank()) {
        merged.put(key, parse(key, value.trim()));
      }
    }
    DepotConfig config = new DepotConfig(merged);
    config.validate();
    return config;
  }

  public static DepotConfig of(JsonObject json) {
    return resolve(json, Map.of());
  }

  /** {@code httpPort} -> {@code DEPOT_HTTP_PORT}. */
  public static String envName(String key) {
    return "DEPOT_" + key.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
  }

  public static Set<String> keys() {
    return DEFAULTS.fieldNames();
  }

  private static Object parse(String key, String value) {
    Object def = DEFAULTS.getValue(key);
    if (def instanceof JsonArray) {
      JsonArray array = new JsonArray();
      for (String part : value.split(",")) {
        if (!part.isBlank()) {
          array.add(part.trim());
        }
      }
      return array;
    }
    if (def instanceof Boolean) {
      if (!value.equalsIgnoreCase("true") && !value.equalsIgnoreCase("false")) {
        throw new IllegalArgumentException(envName(key) + " must be true or false, got '" + value + "'");
      }
      return Boolean.parseBoolean(value);
    }
    if (def instanceof Integer) {
      try {
        return Integer.parseInt(value);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(envName(key) + " must be a number, got '" + value + "'");
      }
    }
    return value;
  }

  private void validate() {
    for (String role : roles()) {
      if (!ALL_ROLES.contains(role)) {
        throw new IllegalArgumentException("unknown role '" + role + "'; roles are "
            + String.join(", ", ROLE_DIRECTORY, ROLE_COORDINATOR, ROLE_GATEWAY, ROLE_STORAGE));
      }
    }
    if (httpPort() < 0 || httpPort() > 65535 || storagePort() < 0 || storagePort() > 65535) {
      throw new IllegalArgumentException("ports must be between 0 and 65535");
    }
    if (repairStreamsPerNode() < 1 || repairStreamsTotal() < 1) {
      throw new IllegalArgumentException("need repairStreamsPerNode >= 1 and repairStreamsTotal >= 1");
    }
    // Slower than this, a paused repair stream could sit idle long enough for its peer to give up on it.
    if (repairBytesPerSecond() != 0 && repairBytesPerSecond() < 1024 * 1024) {
      throw new IllegalArgumentException("repairBytesPerSecond must be 0 (no limit) or at least 1048576 (1 MiB/s)");
    }
    if (packRollBytes() < 1024 * 1024 || packCompactionIntervalMs() < 0) {
      throw new IllegalArgumentException("need packRollBytes >= 1048576 (1 MiB) and packCompactionIntervalMs >= 0");
    }
    if (packCompactionBytesPerSecond() < 0) {
      throw new IllegalArgumentException("packCompactionBytesPerSecond must be 0 (no limit) or more");
    }
    if (batchedDepositMaxBytes() < 0 || batchedDepositMaxBytes() > BATCHED_DEPOSIT_LIMIT) {
      throw new IllegalArgumentException("batchedDepositMaxBytes must be between 0 (no batches) and "
          + BATCHED_DEPOSIT_LIMIT + ": batched replicas go to packs");
    }
    if (heapLimitPercent() < 0 || heapLimitPercent() > 100) {
      throw new IllegalArgumentException("heapLimitPercent must be between 0 (no limit) and 100");
    }
    for (String flag : List.of("nativeTransport", "localReads")) {
      if (!(json.getValue(flag) instanceof Boolean)) {
        throw new IllegalArgumentException(flag + " must be true or false");
      }
    }
    if (defaultReplicas() < 1 || maxReplicas() < defaultReplicas()) {
      throw new IllegalArgumentException("need 1 <= defaultReplicas <= maxReplicas");
    }
  }

  public DepotConfig with(String key, Object value) {
    JsonObject copy = json.copy();
    copy.put(key, value);
    return new DepotConfig(copy);
  }

  public JsonObject toJson() {
    return json.copy();
  }

  public List<String> roles() {
    List<String> roles = new ArrayList<>();
    json.getJsonArray("roles", new JsonArray()).forEach(r -> roles.add(String.valueOf(r).trim()));
    return roles;
  }

  public boolean hasRole(String role) {
    return roles().contains(role);
  }

  public String nodeId() {
    return json.getString("nodeId");
  }

  public String dataDir() {
    return json.getString("dataDir");
  }

  public String advertisedHost() {
    return json.getString("advertisedHost");
  }

  public String httpHost() {
    return json.getString("httpHost");
  }

  public int httpPort() {
    return json.getInteger("httpPort");
  }

  public int storagePort() {
    return json.getInteger("storagePort");
  }

  public String adminToken() {
    return json.getString("adminToken");
  }

  public String clusterName() {
    return json.getString("clusterName");
  }

  public List<String> clusterMembers() {
    List<String> members = new ArrayList<>();
    for (String m : json.getString("clusterMembers", "").split(",")) {
      if (!m.isBlank()) {
        members.add(m.trim());
      }
    }
    return members;
  }

  public int clusterPort() {
    return json.getInteger("clusterPort");
  }

  public String clusterSecret() {
    return json.getString("clusterSecret", "");
  }

  public long heartbeatIntervalMs() {
    return json.getInteger("heartbeatIntervalMs");
  }

  public long nodeExpiryMs() {
    return json.getInteger("nodeExpiryMs");
  }

  /** How often the leading coordinator runs a Berkeley clock-synchronisation round. */
  public long clockSyncIntervalMs() {
    return json.getInteger("clockSyncIntervalMs");
  }

  /** Background re-reading of replicas (bit-rot detection), in bytes per second; 0 turns it off. */
  public long scrubBytesPerSecond() {
    return json.getInteger("scrubBytesPerSecond");
  }

  /** Rest between two full scrubbing passes. */
  public long scrubPauseMs() {
    return json.getInteger("scrubPauseMs");
  }

  /** How often a storage node looks for mostly deleted pack files to rewrite; 0 turns it off. */
  public long packCompactionIntervalMs() {
    return json.getInteger("packCompactionIntervalMs");
  }

  /** A pack file larger than this is sealed and a new one begun; only sealed packs are compacted. */
  public long packRollBytes() {
    return json.getLong("packRollBytes");
  }

  /**
   * What pack compaction copies forward at most per second on one storage node; 0 means no limit. Rewriting a
   * half-live pack of a GiB at full speed would put hundreds of MiB of writes ahead of the deposits.
   */
  /** Beyond this share of its heap in use after a collection, a coordinator refuses new files (0: never). */
  public int heapLimitPercent() {
    return json.getInteger("heapLimitPercent");
  }

  public long packCompactionBytesPerSecond() {
    return json.getLong("packCompactionBytesPerSecond");
  }

  /** Repair copies one storage node may take part in at once, as the source or as the target. */
  public int repairStreamsPerNode() {
    return json.getInteger("repairStreamsPerNode");
  }

  /** Repair copies running at once in the whole cluster. */
  public int repairStreamsTotal() {
    return json.getInteger("repairStreamsTotal");
  }

  /** What a storage node sends of repair copies, in bytes per second over all of them; 0 means no limit. */
  public long repairBytesPerSecond() {
    return json.getLong("repairBytesPerSecond");
  }

  public int defaultReplicas() {
    return json.getInteger("defaultReplicas");
  }

  public int maxReplicas() {
    return json.getInteger("maxReplicas");
  }

  /** Replicas that must be durable before a deposit is acknowledged; 0 means min(R, 2). */
  public int writeQuorum(int replicas) {
    int w = json.getInteger("writeQuorum");
    return w <= 0 ? Math.min(replicas, 2) : Math.min(w, replicas);
  }

  /** Catalog copies sent every operation at once; the others take them in batches (see CatalogReplicator). */
  public int catalogEagerCopies() {
    return Math.max(1, json.getInteger("catalogEagerCopies"));
  }

  public int chunkSize() {
    return json.getInteger("chunkSize");
  }

  /** Direct memory per storage node for O_DIRECT replica writes (12 MiB per write at once); 0 = page cache. */
  public long directIoBufferBytes() {
    return json.getInteger("directIoBufferBytes");
  }

  /** Replicas up to this size are packed into shared append-only files (one fsync per batch). */
  public long smallBlobMaxBytes() {
    return json.getInteger("smallBlobMaxBytes");
  }

  /** Deposits up to this size travel down their pipeline in batches (0: none). */
  public long batchedDepositMaxBytes() {
    return json.getInteger("batchedDepositMaxBytes");
  }

  public long gcGraceMs() {
    return json.getInteger("gcGraceMs");
  }

  /** How long requests to the coordinator are repeated while its leadership moves to a standby. */
  public long failoverWindowMs() {
    return json.getLong("failoverWindowMs");
  }

  public long allocationTimeoutMs() {
    return json.getInteger("allocationTimeoutMs");
  }

  /** The Micrometer registry the node's Vert.x instance reports to (one per instance in {@code dev}). */
  public String metricsRegistry() {
    return json.getString("metricsRegistry");
  }

  /**
   * Whether a client on a storage node's own host may read a replica straight from its file (as HDFS's
   * short-circuit reads), told its path by a signed link. Off unless asked for: the path names the node's disk.
   */
  public boolean localReads() {
    return json.getBoolean("localReads");
  }

  /** Netty's native epoll transport where it loads (Linux, x86_64 or aarch64); NIO otherwise or when false. */
  public boolean nativeTransport() {
    return json.getBoolean("nativeTransport");
  }

  public String webRoot() {
    return json.getString("webRoot");
  }
}
