package depot.it;

import depot.config.DepotConfig;
import depot.node.ClusterSetup;
import depot.node.NodeVerticle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real cluster inside the test JVM: one clustered Vert.x instance, with its own Hazelcast member on
 * 127.0.0.1, per node, running the real verticles. Each cluster gets its own name so parallel or
 * leftover clusters on this host never merge with it.
 */
public final class TestCluster implements AutoCloseable {
  public static final String ADMIN_TOKEN = "test-admin-token";

  private final String clusterName = "depot-test-" + UUID.randomUUID().toString().substring(0, 8);
  private final int clusterPort = 6200 + 20 * new java.util.Random().nextInt(30);
  private final Path root;
  private final Map<String, Vertx> vertxByNode = new LinkedHashMap<>();
  private final Map<String, NodeVerticle> nodes = new LinkedHashMap<>();
  private final JsonObject overrides;
  private NodeVerticle main;

  private TestCluster(Path root, JsonObject overrides) {
    this.root = root;
    this.overrides = overrides;
  }

  /** main (directory, coordinator, gateway) plus {@code storageNodes} storage nodes. */
  public static TestCluster start(int storageNodes) throws Exception {
    return start(storageNodes, new JsonObject());
  }

  public static TestCluster start(int storageNodes, JsonObject overrides) throws Exception {
    TestCluster c = new TestCluster(Files.createTempDirectory("depot-it-"), overrides);
    try {
      return c.boot(storageNodes);
    } catch (Exception e) {
      c.close();
      throw e;
    }
  }

  /** A cluster with no node yet: the test starts each with its roles ({@code main} must hold the gateway). */
  public static TestCluster empty(JsonObject overrides) throws Exception {
    return new TestCluster(Files.createTempDirectory("depot-it-"), overrides);
  }

  private TestCluster boot(int storageNodes) throws Exception {
    startNode("main", new JsonArray().add("directory").add("coordinator").add("gateway"));
    for (int i = 1; i <= storageNodes; i++) {
      startNode("storage-" + i, new JsonArray().add("storage"));
    }
    awaitStorageNodes(storageNodes);
    awaitCoordinatorLeader();
    return this;
  }

  /** Until a coordinator leads (it listens to the election and waits for copies of the catalog first). */
  public JsonObject awaitCoordinatorLeader() throws Exception {
    long deadline = System.currentTimeMillis() + 30_000;
    while (true) {
      try {
        return await(anyVertx().eventBus().<JsonObject>request(depot.protocol.Addresses.COORDINATOR_STATS,
            new JsonObject(), new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(2000))).body();
      } catch (Exception e) {
        if (System.currentTimeMillis() > deadline) {
          throw new IllegalStateException("no coordinator leads after 30 s", e);
        }
        Thread.sleep(100);
      }
    }
  }

  /**
   * Like {@link #start(int, JsonObject)} but on a given data root, which may hold the data of an earlier
   * cluster (same node ids: {@code main}, {@code storage-1..n}): a restart. Close it with
   * {@link #closeKeepingData()} to keep the root, or {@link #close()} to delete it.
   */
  public static TestCluster start(int storageNodes, JsonObject overrides, Path root) throws Exception {
    Files.createDirectories(root);
    TestCluster c = new TestCluster(root, overrides);
    try {
      return c.boot(storageNodes);
    } catch (Exception e) {
      c.closeKeepingData();
      throw e;
    }
  }

  /** Stops every node (storage first, main last) and leaves the data root as it is. */
  public void closeKeepingData() throws Exception {
    List<String> ids = new ArrayList<>(vertxByNode.keySet());
    java.util.Collections.reverse(ids);
    for (String id : ids) {
      try {
        stopNode(id);
      } catch (Exception ignored) {
        // keep closing the rest
      }
    }
  }

  public DepotConfig config(String nodeId, JsonArray roles) {
    JsonObject json = new JsonObject()
        .put("nodeId", nodeId)
        .put("roles", roles)
        .put("dataDir", root.resolve(nodeId).toString())
        .put("httpPort", 0)
        .put("storagePort", 0)
        .put("adminToken", ADMIN_TOKEN)
        .put("clusterName", clusterName)
        // Its own port range: a dev cluster or another test cluster on this host is never in the way.
        .put("clusterPort", clusterPort)
        .put("heartbeatIntervalMs", 300)
        .put("nodeExpiryMs", 2000)
        .put("gcGraceMs", 500)
        .put("scrubPauseMs", 500)
        .put("scrubBytesPerSecond", 64 * 1024 * 1024)
        .put("metricsRegistry", clusterName + "-" + nodeId)
        .mergeIn(overrides);
    return DepotConfig.of(json);
  }

  public NodeVerticle startNode(String nodeId, JsonArray roles) throws Exception {
    DepotConfig config = config(nodeId, roles);
    Vertx vertx = await(ClusterSetup.startClustered(config, "127.0.0.1", config.metricsRegistry()));
    vertxByNode.put(nodeId, vertx);
    NodeVerticle node = new NodeVerticle(config);
    await(vertx.deployVerticle(node));
    nodes.put(nodeId, node);
    if ("main".equals(nodeId)) {
      main = node;
    }
    return node;
  }

  /** Stops a node's Vert.x instance (its Hazelcast member leaves gracefully). */
  public void stopNode(String nodeId) throws Exception {
    Vertx vertx = vertxByNode.remove(nodeId);
    nodes.remove(nodeId);
    if (vertx != null) {
      await(vertx.close());
    }
  }

  public Vertx vertx(String nodeId) {
    return vertxByNode.get(nodeId);
  }

  public Vertx anyVertx() {
    return vertxByNode.get("main");
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + main.gatewayPort();
  }

  public Path dataDir(String nodeId) {
    return root.resolve(nodeId);
  }

  public List<String> storageNodeIds() {
    return nodes.keySet().stream().filter(n -> n.startsWith("storage-")).toList();
  }

  /** The replica ids a storage node says it holds (replica files and packed replicas alike). */
  public Set<String> inventory(String nodeId) throws Exception {
    JsonArray ids = await(anyVertx().eventBus().<JsonObject>request(depot.protocol.Addresses.storageNode(nodeId),
        new JsonObject().put("action", "inventory"))).body().getJsonArray("blobIds");
    Set<String> held = new TreeSet<>();
    ids.forEach(id -> held.add(String.valueOf(id)));
    return held;
  }

  /** The storage endpoint (base URL) of each storage node, as the directory lists it. */
  public Map<String, String> storageUrls() throws Exception {
    Map<String, String> urls = new LinkedHashMap<>();
    await(anyVertx().eventBus().<JsonObject>request(depot.protocol.Addresses.DIRECTORY_NODES, new JsonObject()))
        .body().getJsonArray("nodes").forEach(o -> {
          JsonObject n = (JsonObject) o;
          String url = n.getJsonObject("endpoints", new JsonObject()).getString("storage");
          if (url != null) {
            urls.put(n.getString("id"), url);
          }
        });
    return urls;
  }

  /** Waits until the coordinator sees {@code n} storage nodes UP. */
  public void awaitStorageNodes(int n) throws Exception {
    long deadline = System.currentTimeMillis() + 30_000;
    while (System.currentTimeMillis() < deadline) {
      JsonObject reply;
      try {
        reply = await(anyVertx().eventBus().<JsonObject>request("depot.directory.nodes", new JsonObject())).body();
      } catch (Exception e) {
        Thread.sleep(100); // no directory elected yet
        continue;
      }
      long up = reply.getJsonArray("nodes").stream().map(o -> (JsonObject) o)
          .filter(o -> "UP".equals(o.getString("status")) && o.getJsonArray("roles").contains("storage")).count();
      if (up >= n) {
        Thread.sleep(Math.max(400, 2 * 300)); // let the coordinator's node view catch up
        return;
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("storage nodes did not come up");
  }

  public static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws Exception {
    closeKeepingData();
    deleteTree(root);
  }

  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
