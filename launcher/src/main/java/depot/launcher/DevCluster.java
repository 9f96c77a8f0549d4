package depot.launcher;

import depot.cli.Sha256;
import depot.config.DepotConfig;
import depot.node.ClusterSetup;
import depot.node.NodeVerticle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A whole cluster in one process: one clustered Vert.x instance (its own Hazelcast member on loopback)
 * per node: "main" with directory, coordinator and gateway, and N storage nodes with their own folders.
 */
public final class DevCluster implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DevCluster.class);

  private final List<Vertx> instances = new ArrayList<>();
  private NodeVerticle main;
  private String clusterName;

  /** Per-node settings that come from {@code dev}'s flags, not from the environment. */
  static DepotConfig nodeConfig(Map<String, String> env, String nodeId, JsonArray roles, Path dataDir, int httpPort) {
    // Every node of a dev cluster is on this host, so a client here may read replicas from their files.
    return DepotConfig.resolve(new JsonObject().put("localReads", true), env)
        .with("clusterName", clusterName(env, dataDir.getParent()))
        .with("nodeId", nodeId)
        .with("roles", roles)
        .with("dataDir", dataDir.toString())
        .with("httpPort", httpPort)
        .with("storagePort", 0)
        .with("metricsRegistry", "depot-" + nodeId);
  }

  /**
   * The Hazelcast cluster of a {@code dev} run: {@code DEPOT_CLUSTER_NAME} if set, else a name of its data folder's
   * own. All of its nodes live in this one process, so it must not join whatever else is on loopback: with the
   * shared default, a second {@code dev} (another folder, another port) joined the first, its nodes waited forever
   * for names the first one held, and its storage nodes took a copy of the first one's catalog.
   */
  static String clusterName(Map<String, String> env, Path data) {
    String explicit = env.get(DepotConfig.envName("clusterName"));
    if (explicit != null && !explicit.isBlank()) {
      return explicit;
    }
    String folder = data.toAbsolutePath().normalize().toString();
    return "depot-dev-" + Sha256.of(folder.getBytes(StandardCharsets.UTF_8)).substring(0, 8);
  }

  public String clusterName() {
    return clusterName;
  }

  /**
   * Event loops per node: together the nodes get what one Vert.x instance takes by default (two per core).
   * Each taking that much put 16 event loops on a 2-core machine with 3 storage nodes; with one each, a
   * deposit's hand-offs inside a node stay on one thread, and 4 KiB deposits ran 14% faster there (A/B, two
   * rounds each: 587 and 599 files/s with the default, 683 and 675 with one).
   */
  static int eventLoopsPerNode(int cores, int nodes) {
    return Math.max(1, 2 * cores / nodes);
  }

  /** Starts the storage nodes and the main node; blocks until all are up. */
  public static DevCluster start(Map<String, String> env, Path data, int storageNodes, int port) throws Exception {
    DevCluster cluster = new DevCluster();
    int eventLoops = eventLoopsPerNode(Runtime.getRuntime().availableProcessors(), storageNodes + 1);
    try {
      DepotConfig mainConfig = nodeConfig(env, "main",
          new JsonArray().add("directory").add("coordinator").add("gateway"), data.resolve("main"), port);
      cluster.main = new NodeVerticle(mainConfig);
      cluster.clusterName = mainConfig.clusterName();
      Vertx mainVertx = await(ClusterSetup.startClustered(mainConfig, "127.0.0.1", mainConfig.metricsRegistry(), eventLoops));
      cluster.instances.add(mainVertx);
      List<Future<?>> storage = new ArrayList<>();
      for (int i = 1; i <= storageNodes; i++) {
        DepotConfig c = nodeConfig(env, "storage-" + i, new JsonArray().add("storage"), data.resolve("storage-" + i), 0);
        storage.add(ClusterSetup.startClustered(c, "127.0.0.1", c.metricsRegistry(), eventLoops)
            .compose(vertx -> {
              synchronized (cluster.instances) {
                cluster.instances.add(vertx);
              }
              return vertx.deployVerticle(new NodeVerticle(c));
            }));
      }
      await(mainVertx.deployVerticle(cluster.main));
      await(Future.all(storage));
      return cluster;
    } catch (Exception e) {
      cluster.close();
      throw e;
    }
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
  }

  public int port() {
    return main.gatewayPort();
  }

  public String adminToken() {
    return main.adminToken();
  }

  /** Closes every node: storage nodes last, so in-flight writes can finish. */
  @Override
  public void close() {
    List<Vertx> all;
    synchronized (instances) {
      all = new ArrayList<>(instances);
    }
    // Youngest first: a member that is not Hazelcast's master leaves cleanly, where the master leaving first
    // had every other member suspect it dead (a WARN each) and elect the next one, once per node.
    java.util.Collections.reverse(all);
    for (Vertx v : all) {
      try {
        v.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        log.warn("closing a node failed: {}", e.getMessage());
      }
    }
  }
}
