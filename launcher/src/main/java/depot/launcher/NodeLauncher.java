package depot.launcher;

import depot.config.DepotConfig;
import depot.node.ClusterSetup;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.launcher.application.VertxApplication;
import io.vertx.launcher.application.VertxApplicationHooks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code depot node [VertxApplication options]}: one node started through Vert.x's application launcher.
 * {@code -cluster}, {@code -cluster-host}, {@code -cluster-port} and {@code -conf} pass straight through;
 * the hooks add Depot's environment overrides, Hazelcast setup and Prometheus metrics.
 */
public final class NodeLauncher implements VertxApplicationHooks {
  /** The launcher's options that take a JSON object: a file holding one, or the object itself. */
  private static final List<String> JSON_OPTIONS = List.of("-conf", "--conf", "-options", "--options",
      "-vertx-options", "--vertx-options", "-deployment-options", "--deployment-options");
  private static final List<String> CONF_OPTIONS = List.of("-conf", "--conf");

  private final String clusterHost;
  private final DepotConfig depot;

  private NodeLauncher(String clusterHost, DepotConfig depot) {
    this.clusterHost = clusterHost;
    this.depot = depot;
  }

  public static void launch(String[] args) {
    NodeLauncher hooks;
    try {
      String clusterHost = clusterHost(args);
      hooks = new NodeLauncher(clusterHost, settings(readConf(args), clusterHost));
    } catch (BadSetting e) {
      System.err.println("depot: " + e.getMessage());
      System.exit(1);
      return;
    }
    int code = new VertxApplication(args, hooks).launch();
    if (code != 0) {
      System.exit(code);
    }
  }

  /**
   * The {@code -conf} object, after checking every JSON option. Vert.x's launcher only warns about a value that is
   * neither a JSON file nor a JSON object and goes on without it: a mistyped {@code -conf} would start a node with
   * every role and a data folder in the working directory. The settings are read here, before the launcher
   * starts, because it asks for the Vert.x options (native transport, metrics) before it reads {@code -conf}.
   */
  static JsonObject readConf(String[] args) {
    JsonObject conf = new JsonObject();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      int equals = arg.indexOf('=');
      String name = equals > 0 ? arg.substring(0, equals) : arg;
      if (!JSON_OPTIONS.contains(name)) {
        continue;
      }
      if (equals < 0 && i + 1 >= args.length) {
        throw new BadSetting(name + " needs a value: a JSON file or a JSON object");
      }
      String value = equals > 0 ? arg.substring(equals + 1) : args[++i];
      JsonObject object = jsonObject(name, value);
      if (CONF_OPTIONS.contains(name)) {
        conf = object;
      }
    }
    return conf;
  }

  private static JsonObject jsonObject(String option, String value) {
    Path file;
    try {
      file = Path.of(value);
    } catch (InvalidPathException e) {
      file = null;
    }
    String where = option + " " + value + ": ";
    if (file != null && Files.isRegularFile(file)) {
      try {
        String text = Files.readString(file);
        if (!text.stripLeading().startsWith("{")) {
          throw new BadSetting(where + "it must hold one JSON object, {...}");
        }
        return new JsonObject(text);
      } catch (IOException e) {
        throw new BadSetting(where + "cannot read it: " + e.getMessage());
      } catch (DecodeException | ClassCastException e) {
        throw new BadSetting(where + "not a JSON object: " + firstLine(e.getMessage()));
      }
    }
    if (value.stripLeading().startsWith("{")) {
      try {
        return new JsonObject(value);
      } catch (DecodeException e) {
        throw new BadSetting(where + "not a valid JSON object: " + firstLine(e.getMessage()));
      }
    }
    throw new BadSetting(where + "no such file");
  }

  /** The node's settings: the config file under the environment's overrides. */
  static DepotConfig settings(JsonObject conf, String clusterHost) {
    boolean hostGiven = conf.containsKey("advertisedHost") || System.getenv(DepotConfig.envName("advertisedHost")) != null;
    DepotConfig depot;
    try {
      depot = DepotConfig.resolve(conf);
    } catch (IllegalArgumentException e) {
      throw new BadSetting(e.getMessage());
    }
    // Other hosts reach this node's HTTP endpoints where they reach its event bus.
    return !hostGiven && clusterHost != null ? depot.with("advertisedHost", clusterHost) : depot;
  }

  private static String firstLine(String message) {
    return message == null ? "" : message.lines().findFirst().orElse("");
  }

  private static String clusterHost(String[] args) {
    String host = null;
    for (int i = 0; i < args.length; i++) {
      if ((args[i].equals("-cluster-host") || args[i].equals("--cluster-host")) && i + 1 < args.length) {
        host = args[++i];
      } else if (args[i].startsWith("-cluster-host=") || args[i].startsWith("--cluster-host=")) {
        host = args[i].substring(args[i].indexOf('=') + 1);
      }
    }
    return host;
  }

  /** A setting refused before the node starts: reported on one line, not as a stack trace. */
  static final class BadSetting extends RuntimeException {
    BadSetting(String message) {
      super(message, null, false, false);
    }
  }

  @Override
  public java.util.function.Supplier<? extends io.vertx.core.Deployable> verticleSupplier() {
    return depot.node.NodeVerticle::new;
  }

  @Override
  public JsonObject afterConfigParsed(JsonObject config) {
    return depot.toJson(); // read from the same -conf before the launcher started (readConf)
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
