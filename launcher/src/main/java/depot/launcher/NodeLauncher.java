package depot.launcher;

import depot.config.DepotConfig;
import depot.node.ClusterSetup;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.launcher.application.VertxApplication;
import io.vertx.launcher.application.VertxApplicationHooks;

/**
 * {@code depot node [VertxApplication options]}: one node started through Vert.x's application launcher.
 * {@code -cluster}, {@code -cluster-host}, {@code -cluster-port} and {@code -conf} pass straight through;
 * the hooks add Depot's environment overrides, Hazelcast setup and Prometheus metrics.
 */
public final class NodeLauncher implements VertxApplicationHooks {
  private final String clusterHost;
  private DepotConfig depot = DepotConfig.resolve(new JsonObject());

  private NodeLauncher(String clusterHost) {
    this.clusterHost = clusterHost;
  }

  public static void launch(String[] args) {
    int code = new VertxApplication(args, new NodeLauncher(clusterHost(args))).launch();
    if (code != 0) {
      System.exit(code);
    }
  }

  private static String clusterHost(String[] args) {
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals("-cluster-host") || args[i].equals("--cluster-host")) {
        return args[i + 1];
      }
    }
    return null;
  }

  @Override
  public java.util.function.Supplier<? extends io.vertx.core.Deployable> verticleSupplier() {
    return depot.node.NodeVerticle::new;
  }

  @Override
  public JsonObject afterConfigParsed(JsonObject config) {
    JsonObject file = config == null ? new JsonObject() : config.copy();
    boolean hostGiven = file.containsKey("advertisedHost") || System.getenv(DepotConfig.envName("advertisedHost")) != null;
    depot = DepotConfig.resolve(file);
    if (!hostGiven && clusterHost != null) {
      // Other hosts reach this node's HTTP endpoints where they reach its event bus.
      depot = depot.with("advertisedHost", clusterHost);
    }
    return depot.toJson();
  }

  @Override
  public JsonObject afterVertxOptionsParsed(JsonObject options) {
    JsonObject opts = options == null ? new JsonObject() : options;
    if (!opts.containsKey("metricsOptions")) {
      opts.put("metricsOptions", ClusterSetup.metricsOptions(depot.metricsRegistry()).toJson());
    }
    if (!opts.containsKey("preferNativeTransport")) {
      opts.put("preferNativeTransport", depot.nativeTransport());
    }
    return opts;
  }

  @Override
  public VertxBuilder createVertxBuilder(VertxOptions options) {
    String host = clusterHost != null ? clusterHost : "127.0.0.1";
    // With no -cluster-host, everything stays on loopback (one host); -cluster-host overrides this later.
    options.getEventBusOptions().setHost(host);
    VertxBuilder builder = Vertx.builder().with(options);
    return builder.withClusterManager(new io.vertx.spi.cluster.hazelcast.HazelcastClusterManager(
        ClusterSetup.hazelcastConfig(depot, host)));
  }
}
