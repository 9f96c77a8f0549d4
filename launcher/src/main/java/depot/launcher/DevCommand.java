package depot.launcher;

import depot.config.DepotConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code depot dev}: the local cluster in one command; Ctrl-C stops it cleanly. */
@Command(name = "dev", mixinStandardHelpOptions = true,
    description = "Run a local Depot cluster: directory, coordinator and gateway, plus N storage nodes.")
public final class DevCommand implements Callable<Integer> {
  @Option(names = "--storage-nodes", defaultValue = "3", description = "storage nodes to start (default ${DEFAULT-VALUE})")
  int storageNodes;

  @Option(names = "--port", description = "gateway HTTP port (default $DEPOT_HTTP_PORT or 8080; 0 = any free port)")
  Integer port;

  @Option(names = "--data", description = "data folder (default $DEPOT_DATA_DIR or ./depot-data)")
  Path data;

  public static int run(String[] args) {
    return new CommandLine(new DevCommand()).execute(args);
  }

  @Override
  public Integer call() throws Exception {
    if (storageNodes < 1) {
      System.err.println("depot: --storage-nodes must be at least 1");
      return 2;
    }
    var env = System.getenv();
    int httpPort = port != null ? port : DepotConfig.resolve(null).httpPort();
    Path dataDir = data != null ? data : Path.of(env.getOrDefault("DEPOT_DATA_DIR", "depot-data"));
    DataFolderLock lock = DataFolderLock.take(dataDir.toAbsolutePath());
    if (lock == null) {
      System.err.println("depot: " + dataDir.toAbsolutePath() + " is in use by another depot dev; stop that one, or pass --data DIR");
      return 1;
    }
    // Held while the cluster runs: a lock left unreachable could be let go of by the garbage collector.
    try (lock) {
      return serve(env, dataDir, httpPort);
    }
  }

  /** Starts the cluster on {@code dataDir} and runs it until the process is told to stop. */
  private int serve(Map<String, String> env, Path dataDir, int httpPort) throws InterruptedException {
    DevCluster cluster;
    try {
      cluster = DevCluster.start(env, dataDir.toAbsolutePath(), storageNodes, httpPort);
    } catch (Exception e) {
      Throwable root = e;
      while (root.getCause() != null) {
        root = root.getCause();
      }
      System.err.println("depot: could not start the local cluster: " + root.getMessage());
      return 1;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.out.println("Stopping Depot...");
      cluster.close();
      stopped.countDown();
    }, "depot-dev-shutdown"));
    String url = "http://localhost:" + cluster.port();
    System.out.println("Depot is running: " + storageNodes + " storage nodes, data in " + dataDir.toAbsolutePath()
        + ", cluster name " + cluster.clusterName());
    System.out.println("  Dashboard and API: " + url);
    System.out.println("  Admin token:       " + cluster.adminToken());
    System.out.println("  Try:  java -jar launcher/target/depot.jar login --nickname me --server " + url);
    System.out.println("Press Ctrl-C to stop.");
    System.out.flush();
    stopped.await();
    return 0;
  }
}
