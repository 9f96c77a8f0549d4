package depot.node;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.XmlConfigBuilder;
import depot.config.DepotConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Builds clustered Vert.x instances: Hazelcast from {@code conf/cluster.xml}, overridden by Depot's config. */
public final class ClusterSetup {
  private ClusterSetup() {}

  /** The Hazelcast config: {@code -Dvertx.hazelcast.config}, else {@code conf/cluster.xml}, else the jar's copy. */
  public static Config hazelcastConfig(DepotConfig depot, String bindHost) {
    Config config = loadXml();
    config.setClusterName(depot.clusterName());
    config.getNetworkConfig().setPort(depot.clusterPort()).setPortAutoIncrement(true);
    JoinConfig join = config.getNetworkConfig().getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(depot.clusterMembers());
    if (bindHost != null && !bindHost.isBlank() && !bindHost.equals("0.0.0.0")) {
      // Bind Hazelcast where the event bus binds, so one host with several addresses (or netns) stays coherent.
      config.setProperty("hazelcast.local.localAddress", bindHost);
    }
    return config;
  }

  private static Config loadXml() {
    String explicit = System.getProperty("vertx.hazelcast.config");
    try {
      if (explicit != null && !explicit.startsWith("classpath:")) {
        try (InputStream in = new FileInputStream(explicit)) {
          return new XmlConfigBuilder(in).build();
        }
      }
      Path local = Path.of("conf", "cluster.xml");
      if (explicit == null && Files.isRegularFile(local)) {
        try (InputStream in = Files.newInputStream(local)) {
          return new XmlConfigBuilder(in).build();
        }
      }
      String resource = explicit != null ? explicit.substring("classpath:".length()) : "cluster.xml";
      try (InputStream in = ClusterSetup.class.getClassLoader().getResourceAsStream(resource)) {
        if (in == null) {
          throw new IllegalStateException("Hazelcast config " + resource + " not found on the classpath");
        }
        return new XmlConfigBuilder(in).build();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Prometheus metrics, one registry per Vert.x instance (several share a JVM in {@code dev}). */
  public static MicrometerMetricsOptions metricsOptions(String registryName) {
    return new MicrometerMetricsOptions()
        .setEnabled(true)
        .setJvmMetricsEnabled(true)
        .setRegistryName(registryName)
        // Node-to-node HTTP clients and raw TCP are internal plumbing; metering every internal request
        // costs more than it tells. HTTP servers, the event bus, pools and the JVM stay measured.
        .addDisabledMetricsCategory(MetricsDomain.HTTP_CLIENT)
        .addDisabledMetricsCategory(MetricsDomain.NET_CLIENT)
        .addDisabledMetricsCategory(MetricsDomain.NET_SERVER)
        .addDisabledMetricsCategory(MetricsDomain.DATAGRAM_SOCKET)
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true));
  }

  /** A builder for one clustered node: Hazelcast per {@code depot} config, event bus on {@code host}. */
  public static VertxBuilder builder(DepotConfig depot, VertxOptions options, String host) {
    options.getEventBusOptions().setHost(host);
    return Vertx.builder().with(options).withClusterManager(new HazelcastClusterManager(hazelcastConfig(depot, host)));
  }

  public static Future<Vertx> startClustered(DepotConfig depot, String host, String registryName) {
    return startClustered(depot, host, registryName, VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE);
  }

  /** @param eventLoops event-loop threads of this instance (several instances share a JVM in {@code dev}) */
  public static Future<Vertx> startClustered(DepotConfig depot, String host, String registryName, int eventLoops) {
    VertxOptions options = new VertxOptions().setMetricsOptions(metricsOptions(registryName))
        .setEventLoopPoolSize(eventLoops).setPreferNativeTransport(depot.nativeTransport());
    options.getEventBusOptions().setPort(0);
    return builder(depot, options, host).buildClustered();
  }
}
