package depot.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DepotConfigTest {

  @Test
  void defaults() {
    DepotConfig c = DepotConfig.resolve(null, Map.of());
    assertEquals(List.of("directory", "coordinator", "gateway", "storage"), c.roles());
    assertNull(c.nodeId());
    assertEquals("data", c.dataDir());
    assertEquals("127.0.0.1", c.advertisedHost());
    assertEquals("0.0.0.0", c.httpHost());
    assertEquals(8080, c.httpPort());
    assertEquals(0, c.storagePort());
    assertNull(c.adminToken());
    assertEquals("depot", c.clusterName());
    assertEquals(List.of("127.0.0.1"), c.clusterMembers());
    assertEquals(5701, c.clusterPort());
    assertEquals("", c.clusterSecret());
    assertEquals(1000, c.heartbeatIntervalMs());
    assertEquals(4000, c.nodeExpiryMs());
    assertEquals(3, c.defaultReplicas());
    assertEquals(10, c.maxReplicas());
    assertEquals(64 * 1024, c.chunkSize());
    assertEquals(30_000, c.gcGraceMs());
    assertEquals(3_600_000, c.allocationTimeoutMs());
    assertEquals("web-ui", c.webRoot());
    assertEquals("depot", c.metricsRegistry());
    for (String role : DepotConfig.ALL_ROLES) {
      assertTrue(c.hasRole(role), role);
    }
  }

  @Test
  void ofIgnoresTheEnvironmentAndEqualsResolveWithEmptyEnv() {
    JsonObject file = new JsonObject().put("httpPort", 9000);
    assertEquals(DepotConfig.resolve(file, Map.of()).toJson(), DepotConfig.of(file).toJson());
  }

  @Test
  void fileOverridesDefaults() {
    JsonObject file = new JsonObject()
        .put("roles", new JsonArray().add("storage"))
        .put("nodeId", "store-7")
        .put("dataDir", "/var/lib/depot")
        .put("httpPort", 9090)
        .put("clusterMembers", "10.0.0.1, 10.0.0.2,,10.0.0.3 ")
        .put("nodeExpiryMs", 2000)
        .put("defaultReplicas", 2)
        .put("adminToken", "secret");
    DepotConfig c = DepotConfig.resolve(file, Map.of());
    assertEquals(List.of("storage"), c.roles());
    assertTrue(c.hasRole("storage"));
    assertFalse(c.hasRole("gateway"));
    assertEquals("store-7", c.nodeId());
    assertEquals("/var/lib/depot", c.dataDir());
    assertEquals(9090, c.httpPort());
    assertEquals(List.of("10.0.0.1", "10.0.0.2", "10.0.0.3"), c.clusterMembers());
    assertEquals(2000, c.nodeExpiryMs());
    assertEquals(2, c.defaultReplicas());
    assertEquals("secret", c.adminToken());
    // untouched keys keep their defaults
    assertEquals(5701, c.clusterPort());
    assertEquals(10, c.maxReplicas());
  }

  @Test
  void fileConfigIsNotModified() {
    JsonObject file = new JsonObject().put("httpPort", 9090);
    JsonObject before = file.copy();
    DepotConfig.resolve(file, Map.of("DEPOT_HTTP_PORT", "7000"));
    assertEquals(before, file);
  }

  @Test
  void environmentWinsOverFileAndDefaults() {
    JsonObject file = new JsonObject().put("httpPort", 9090).put("nodeId", "from-file").put("dataDir", "file-dir");
    Map<String, String> env = Map.of(
        "DEPOT_HTTP_PORT", "7070",
        "DEPOT_NODE_ID", "from-env",
        "DEPOT_NODE_EXPIRY_MS", "1234",
        "DEPOT_CLUSTER_SECRET", "s3cret",
        "DEPOT_ADMIN_TOKEN", "adm");
    DepotConfig c = DepotConfig.resolve(file, env);
    assertEquals(7070, c.httpPort());
    assertEquals("from-env", c.nodeId());
    assertEquals(1234, c.nodeExpiryMs());
    assertEquals("s3cret", c.clusterSecret());
    assertEquals("adm", c.adminToken());
    assertEquals("file-dir", c.dataDir()); // not in env: the file's value
  }

  @Test
  void environmentValuesAreTrimmedAndBlankOnesIgnored() {
    DepotConfig c = DepotConfig.resolve(new JsonObject().put("httpPort", 9090),
        Map.of("DEPOT_HTTP_PORT", "   ", "DEPOT_NODE_ID", "", "DEPOT_CHUNK_SIZE", " 4096 "));
    assertEquals(9090, c.httpPort());
    assertNull(c.nodeId());
    assertEquals(4096, c.chunkSize());
  }

  @Test
  void unrelatedEnvironmentVariablesAreIgnored() {
    DepotConfig c = DepotConfig.resolve(null, Map.of("HTTP_PORT", "1", "DEPOT_HTTPPORT", "2", "depot_http_port", "3",
        "DEPOT_NO_SUCH_KEY", "x"));
    assertEquals(8080, c.httpPort());
    assertFalse(c.toJson().containsKey("noSuchKey"));
  }

  @Test
  void envNameMapping() {
    assertEquals("DEPOT_HTTP_PORT", DepotConfig.envName("httpPort"));
    assertEquals("DEPOT_NODE_EXPIRY_MS", DepotConfig.envName("nodeExpiryMs"));
    assertEquals("DEPOT_ROLES", DepotConfig.envName("roles"));
    assertEquals("DEPOT_NODE_ID", DepotConfig.envName("nodeId"));
    assertEquals("DEPOT_DATA_DIR", DepotConfig.envName("dataDir"));
    assertEquals("DEPOT_HEARTBEAT_INTERVAL_MS", DepotConfig.envName("heartbeatIntervalMs"));
    assertEquals("DEPOT_GC_GRACE_MS", DepotConfig.envName("gcGraceMs"));
    assertEquals("DEPOT_ALLOCATION_TIMEOUT_MS", DepotConfig.envName("allocationTimeoutMs"));
    assertEquals("DEPOT_WRITE_QUORUM", DepotConfig.envName("writeQuorum"));
  }

  @Test
  void everyKeyCanBeSetFromTheEnvironment() {
    for (String key : DepotConfig.keys()) {
      String env = DepotConfig.envName(key);
      assertTrue(env.matches("DEPOT_[A-Z0-9_]+"), env);
      Object def = DepotConfig.of(new JsonObject()).toJson().getValue(key);
      String value = def instanceof Integer ? "1" : def instanceof JsonArray ? "storage"
          : def instanceof Boolean b ? String.valueOf(!b) : "v-" + key;
      if (key.equals("defaultReplicas") || key.equals("maxReplicas")) {
        value = "3";
      }
      if (key.equals("repairBytesPerSecond") || key.equals("packRollBytes")) {
        value = "1048576";
      }
      JsonObject resolved = DepotConfig.resolve(null, Map.of(env, value)).toJson();
      Object expected = def instanceof Integer ? Integer.valueOf(value)
          : def instanceof JsonArray ? new JsonArray().add(value)
          : def instanceof Boolean ? Boolean.valueOf(value) : value;
      assertEquals(expected, resolved.getValue(key), () -> env + " did not set " + key);
    }
  }

  @Test
  void packFilesSmallerThanAMebibyteAreRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DepotConfig.resolve(null, Map.of("DEPOT_PACK_ROLL_BYTES", "4096")));
    assertTrue(e.getMessage().contains("packRollBytes"), e.getMessage());
    assertEquals(1 << 30, DepotConfig.of(new JsonObject()).packRollBytes());
  }

  @Test
  void theHeapLimitIsAPercentage() {
    assertEquals(90, DepotConfig.of(new JsonObject()).heapLimitPercent());
    assertEquals(0, DepotConfig.resolve(null, Map.of("DEPOT_HEAP_LIMIT_PERCENT", "0")).heapLimitPercent());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DepotConfig.resolve(null, Map.of("DEPOT_HEAP_LIMIT_PERCENT", "101")));
    assertTrue(e.getMessage().contains("heapLimitPercent"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> DepotConfig.of(new JsonObject().put("heapLimitPercent", -1)));
  }

  @Test
  void nativeTransportIsOnUnlessSwitchedOffAndTakesOnlyTrueOrFalse() {
    assertTrue(DepotConfig.of(new JsonObject()).nativeTransport());
    assertEquals(false, DepotConfig.resolve(null, Map.of("DEPOT_NATIVE_TRANSPORT", "FALSE")).nativeTransport());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DepotConfig.resolve(null, Map.of("DEPOT_NATIVE_TRANSPORT", "no")));
    assertTrue(e.getMessage().contains("DEPOT_NATIVE_TRANSPORT must be true or false"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> DepotConfig.of(new JsonObject().put("nativeTransport", "yes")));
    assertTrue(e.getMessage().contains("nativeTransport must be true or false"), e.getMessage());
  }

  @Test
  void localReadsAreOffUnlessAskedForAndTakeOnlyTrueOrFalse() {
    assertFalse(DepotConfig.of(new JsonObject()).localReads());
    assertTrue(DepotConfig.resolve(null, Map.of("DEPOT_LOCAL_READS", "true")).localReads());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DepotConfig.of(new JsonObject().put("localReads", 1)));
    assertTrue(e.getMessage().contains("localReads must be true or false"), e.getMessage());
  }

  @Test
  void batchedDepositsStayWithinThePackedSize() {
    assertEquals(64 * 1024, DepotConfig.of(new JsonObject()).batchedDepositMaxBytes());
    assertEquals(0, DepotConfig.resolve(null, Map.of("DEPOT_BATCHED_DEPOSIT_MAX_BYTES", "0")).batchedDepositMaxBytes());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DepotConfig.resolve(null, Map.of("DEPOT_BATCHED_DEPOSIT_MAX_BYTES", "262145")));
    assertTrue(e.getMessage().contains("batchedDepositMaxBytes") && e.getMessage().contains("262144"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> DepotConfig.of(new JsonObject().put("batchedDepositMaxBytes", -1)));
  }

  @Test
  void rolesFromTheEnvironmentAreACommaList() {
    DepotConfig c = DepotConfig.resolve(null, Map.of("DEPOT_ROLES", " storage , gateway,, "));
    assertEquals(List.of("storage", "gateway"), c.roles());
    assertTrue(c.hasRole("gateway"));
    assertFalse(c.hasRole("directory"));
    assertEquals(List.of("coordinator"), DepotConfig.resolve(null, Map.of("DEPOT_ROLES", "coordinator")).roles());
  }

  @Test
  void badNumberNamesTheVariable() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DepotConfig.resolve(null, Map.of("DEPOT_HTTP_PORT", "eighty")));
    assertTrue(e.getMessage().contains("DEPOT_HTTP_PORT"), e.getMessage());
    assertTrue(e.getMessage().contains("eighty"), e.getMessage());

    e = assertThrows(IllegalArgumentException.class,
        () -> DepotConfig.resolve(null, Map.of("DEPOT_NODE_EXPIRY_MS", "4s")));
    assertTrue(e.getMessage().contains("DEPOT_NODE_EXPIRY_MS"), e.getMessage());

    e = assertThrows(IllegalArgumentException.class,
        () -> DepotConfig.resolve(null, Map.of("DEPOT_CHUNK_SIZE", "99999999999")));
    assertTrue(e.getMessage().contains("DEPOT_CHUNK_SIZE"), e.getMessage());
  }

  @Test
  void unknownRoleIsRejected() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DepotConfig.resolve(null, Map.of("DEPOT_ROLES", "storage,cache")));
    assertTrue(e.getMessage().contains("cache"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> DepotConfig.of(new JsonObject().put("roles", new JsonArray().add("Storage"))));
    assertThrows(IllegalArgumentException.class,
        () -> DepotConfig.of(new JsonObject().put("roles", new JsonArray().add("gateway").add("master"))));
  }

  @Test
  void portsOutOfRangeAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> DepotConfig.resolve(null, Map.of("DEPOT_HTTP_PORT", "70000")));
    assertThrows(IllegalArgumentException.class, () -> DepotConfig.resolve(null, Map.of("DEPOT_HTTP_PORT", "-1")));
    assertThrows(IllegalArgumentException.class, () -> DepotConfig.of(new JsonObject().put("storagePort", 65536)));
    assertEquals(65535, DepotConfig.of(new JsonObject().put("httpPort", 65535)).httpPort());
    assertEquals(0, DepotConfig.of(new JsonObject().put("httpPort", 0)).httpPort());
  }

  @Test
  void replicaSettingsAreChecked() {
    assertThrows(IllegalArgumentException.class, () -> DepotConfig.of(new JsonObject().put("defaultReplicas", 0)));
    assertThrows(IllegalArgumentException.class,
        () -> DepotConfig.of(new JsonObject().put("defaultReplicas", 4).put("maxReplicas", 3)));
    assertEquals(3, DepotConfig.of(new JsonObject().put("defaultReplicas", 3).put("maxReplicas", 3)).maxReplicas());
  }

  @Test
  void writeQuorumDefaultsToMinOfReplicasAndTwo() {
    DepotConfig c = DepotConfig.of(new JsonObject());
    assertEquals(1, c.writeQuorum(1));
    assertEquals(2, c.writeQuorum(2));
    assertEquals(2, c.writeQuorum(3));
    assertEquals(2, c.writeQuorum(10));
  }

  @Test
  void explicitWriteQuorumIsCappedByReplicas() {
    DepotConfig c = DepotConfig.resolve(null, Map.of("DEPOT_WRITE_QUORUM", "3"));
    assertEquals(1, c.writeQuorum(1));
    assertEquals(2, c.writeQuorum(2));
    assertEquals(3, c.writeQuorum(3));
    assertEquals(3, c.writeQuorum(5));
    DepotConfig one = DepotConfig.of(new JsonObject().put("writeQuorum", 1));
    assertEquals(1, one.writeQuorum(3));
    DepotConfig negative = DepotConfig.of(new JsonObject().put("writeQuorum", -5));
    assertEquals(2, negative.writeQuorum(3));
  }

  @Test
  void repairLimitsHaveDefaultsEnvironmentOverridesAndBounds() {
    DepotConfig d = DepotConfig.resolve(null, Map.of());
    assertEquals(2, d.repairStreamsPerNode());
    assertEquals(4, d.repairStreamsTotal());
    assertEquals(256L * 1024 * 1024, d.repairBytesPerSecond());
    DepotConfig e = DepotConfig.resolve(new JsonObject().put("repairStreamsTotal", 8), Map.of(
        "DEPOT_REPAIR_STREAMS_PER_NODE", "1", "DEPOT_REPAIR_BYTES_PER_SECOND", "67108864"));
    assertEquals(1, e.repairStreamsPerNode());
    assertEquals(8, e.repairStreamsTotal());
    assertEquals(64L * 1024 * 1024, e.repairBytesPerSecond());
    assertEquals(0, DepotConfig.of(new JsonObject().put("repairBytesPerSecond", 0)).repairBytesPerSecond());
    assertThrows(IllegalArgumentException.class, () -> DepotConfig.of(new JsonObject().put("repairStreamsPerNode", 0)));
    assertThrows(IllegalArgumentException.class, () -> DepotConfig.of(new JsonObject().put("repairStreamsTotal", 0)));
    assertThrows(IllegalArgumentException.class, () -> DepotConfig.of(new JsonObject().put("repairBytesPerSecond", -1)));
    assertThrows(IllegalArgumentException.class, () -> DepotConfig.of(new JsonObject().put("repairBytesPerSecond", 64 * 1024)));
  }

  @Test
  void withReturnsAChangedCopy() {
    DepotConfig c = DepotConfig.of(new JsonObject());
    DepotConfig d = c.with("httpPort", 1234);
    assertEquals(1234, d.httpPort());
    assertEquals(8080, c.httpPort());
  }

  @Test
  void toJsonIsACopy() {
    DepotConfig c = DepotConfig.of(new JsonObject());
    c.toJson().put("httpPort", 1);
    assertEquals(8080, c.httpPort());
  }
}
