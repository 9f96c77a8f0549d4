package depot.process;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A Depot cluster of separate OS processes started from the built {@code depot.jar}
 * ({@code java -jar depot.jar node -cluster -conf conf/<role>.json}), configured through environment variables,
 * each node with its own data folder and log file. A node can be killed and started again on the same data
 * folder; every start gets a log file of its own ({@code <id>.log}, {@code <id>.2.log}, ...).
 *
 * <p>Every cluster gets a unique cluster name, so it never merges with another test cluster or a developer's.
 */
final class ProcessCluster implements AutoCloseable {
  /** Root pom property {@code hazelcast.jvm.args}; used if the pom cannot be read. */
  /** Vert.x launcher's exit code when Vert.x does not start (its cluster join included) within 2 minutes. */
  static final int EXIT_STARTUP_FAILED = 11;
  static final String HAZELCAST_ARGS_FALLBACK = "--add-modules java.se --add-exports java.base/jdk.internal.ref=ALL-UNNAMED"
      + " --add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/java.nio=ALL-UNNAMED"
      + " --add-opens java.base/sun.nio.ch=ALL-UNNAMED";

  private record Spec(String conf, Map<String, String> env) {}

  private final Path repoRoot;
  private final Path jar;
  private final Path logDir;
  private final Path dataRoot;
  private final String clusterName;
  private final String adminToken;
  private final int clusterPort;
  private final List<String> startupRetries = new CopyOnWriteArrayList<>();
  private final List<String> hazelcastArgs;
  private final List<String> jvmOptions;
  private final Map<String, String> baseEnv = cleanEnv();
  private final Map<String, Spec> specs = new LinkedHashMap<>();
  private final Map<String, NodeProcess> current = new LinkedHashMap<>();
  private final Map<String, Integer> starts = new LinkedHashMap<>();
  private final List<NodeProcess> started = new CopyOnWriteArrayList<>();
  private final Thread killHook;

  /**
   * @param logDir emptied, then receives one log per node start
   * @param prefix of the cluster name and of the temporary data folder
   * @param jvmOptions for every node, besides {@code -Xmx256m} and the Hazelcast flags
   */
  ProcessCluster(Path moduleDir, Path logDir, String prefix, int clusterPort, List<String> jvmOptions) throws IOException {
    this.jvmOptions = List.copyOf(jvmOptions);
    this.jar = moduleDir.resolve("target").resolve("depot.jar");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("missing " + jar + ": run `mvn package` first (failsafe runs after package)");
    }
    this.repoRoot = moduleDir.getParent();
    this.logDir = logDir;
    deleteTree(logDir);
    Files.createDirectories(logDir);
    this.dataRoot = Files.createTempDirectory(prefix + "-");
    this.clusterName = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    this.adminToken = prefix + "-admin-" + UUID.randomUUID();
    this.clusterPort = clusterPort;
    this.hazelcastArgs = hazelcastArgs(repoRoot);
    this.killHook = new Thread(() -> started.forEach(NodeProcess::kill), prefix + "-kill");
    Runtime.getRuntime().addShutdownHook(killHook);
  }

  /** The launcher module: failsafe sets {@code basedir}; otherwise the working directory. */
  static Path moduleDir() {
    Path dir = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath().normalize();
    if (!Files.isRegularFile(dir.resolve("pom.xml")) || !Files.isDirectory(dir.resolve("src"))) {
      throw new IllegalStateException("cannot locate the launcher module directory (basedir=" + dir + ")");
    }
    return dir;
  }

  String clusterName() {
    return clusterName;
  }

  String adminToken() {
    return adminToken;
  }

  Path dataDir(String id) {
    return dataRoot.resolve(id);
  }

  NodeProcess node(String id) {
    return current.get(id);
  }

  List<NodeProcess> everyStart() {
    return List.copyOf(started);
  }

  /** Starts node {@code id} with {@code conf} (relative to the repository root) and extra environment. */
  synchronized NodeProcess start(String id, String conf, Map<String, String> extraEnv) throws IOException {
    specs.put(id, new Spec(conf, Map.copyOf(extraEnv)));
    return launch(id);
  }

  /** Starts node {@code id} again, on the same data folder and settings; the previous process must be gone. */
  synchronized NodeProcess restart(String id) throws IOException {
    NodeProcess before = current.get(id);
    if (before != null && before.isAlive()) {
      throw new IllegalStateException(before + " is still running");
    }
    return launch(id);
  }

  private NodeProcess launch(String id) throws IOException {
    Spec spec = specs.get(id);
    List<String> cmd = new ArrayList<>();
    cmd.add(javaBin());
    cmd.add("-Xmx256m");
    cmd.addAll(jvmOptions);
    cmd.addAll(hazelcastArgs);
    cmd.addAll(List.of("-jar", jar.toString(), "node", "-cluster", "-conf", spec.conf()));
    Map<String, String> env = new LinkedHashMap<>();
    env.put("DEPOT_NODE_ID", id);
    env.put("DEPOT_DATA_DIR", dataDir(id).toString());
    env.put("DEPOT_CLUSTER_NAME", clusterName);
    env.put("DEPOT_CLUSTER_PORT", String.valueOf(clusterPort));
    env.put("DEPOT_CLUSTER_MEMBERS", "127.0.0.1");
    env.put("DEPOT_ADMIN_TOKEN", adminToken);
    env.putAll(spec.env());
    int n = starts.merge(id, 1, Integer::sum);
    NodeProcess p = NodeProcess.start(id, cmd, repoRoot, baseEnv, env, logDir.resolve(id + (n == 1 ? "" : "." + n) + ".log"));
    current.put(id, p);
    started.add(p);
    return p;
  }

  /**
   * Waits until node {@code id} logs {@code line}, acting as the supervisor a deployment runs its nodes under
   * ({@code restart: unless-stopped} in {@code docker/docker-compose.yml}): a node that gives up starting is started once
   * more. Vert.x's launcher gives up after 2 minutes (exit code {@value #EXIT_STARTUP_FAILED}); a Hazelcast join
   * has been seen to hang that long when several members join at once. Every such restart is kept in
   * {@link #startupRetries()}, so a report shows it; a second give-up fails.
   */
  void awaitStarted(String id, String line, long timeoutMs) throws InterruptedException, IOException {
    try {
      awaitLog(id, line, timeoutMs);
    } catch (IllegalStateException e) {
      NodeProcess p = current.get(id);
      if (p.isAlive() || !Integer.valueOf(EXIT_STARTUP_FAILED).equals(p.exitCode())) {
        throw e;
      }
      String what = p + " gave up starting; its log ends with:\n" + p.tail(12);
      startupRetries.add(what);
      System.out.println("[process] " + what + "\n[process] starting " + id + " once more, as its supervisor would");
      restart(id);
      awaitLog(id, line, timeoutMs);
    }
  }

  /** The nodes {@link #awaitStarted} had to start again, each with the end of its log. */
  List<String> startupRetries() {
    return List.copyOf(startupRetries);
  }

  /** Waits until the node's current log contains {@code line}; fails if the process dies first. */
  void awaitLog(String id, String line, long timeoutMs) throws InterruptedException {
    NodeProcess p = current.get(id);
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (System.currentTimeMillis() < deadline) {
      if (p.logContains(line)) {
        return;
      }
      if (!p.isAlive()) {
        throw new IllegalStateException(p + " exited before logging '" + line + "'; its log ends with:\n" + p.tail(40));
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException(p + " did not log '" + line + "' within " + timeoutMs + " ms; its log ends with:\n"
        + p.tail(40));
  }

  /** The last lines of every node's log, for a failure message. */
  String dumpLogs(int lines) {
    StringBuilder sb = new StringBuilder("\n========== node logs (last " + lines + " lines each) ==========\n");
    for (NodeProcess p : started) {
      sb.append("---------- ").append(p).append(": ").append(p.log()).append('\n').append(p.tail(lines)).append('\n');
    }
    return sb.append("==========================================================\n").toString();
  }

  /** SIGTERM to every node still running, SIGKILL to those that do not exit in time; deletes the data. */
  @Override
  public void close() throws IOException {
    try {
      started.forEach(p -> {
        if (p.isAlive()) {
          p.terminate();
        }
      });
      for (NodeProcess p : started) {
        p.awaitExit(15_000);
      }
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(killHook);
      } catch (IllegalStateException shuttingDown) {
        // the hook runs anyway
      }
      deleteTree(dataRoot);
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // helpers shared by the process-level tests

  static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** {@code hazelcast.jvm.args} from the root pom, so the nodes run with what the build declares. */
  static List<String> hazelcastArgs(Path repoRoot) {
    String args = HAZELCAST_ARGS_FALLBACK;
    try {
      Matcher m = Pattern.compile("<hazelcast\\.jvm\\.args>([^<]+)</hazelcast\\.jvm\\.args>")
          .matcher(Files.readString(repoRoot.resolve("pom.xml"), StandardCharsets.UTF_8));
      if (m.find()) {
        args = m.group(1);
      }
    } catch (IOException e) {
      System.out.println("[process] cannot read the root pom (" + e + "); using built-in Hazelcast JVM flags");
    }
    return Arrays.stream(args.trim().split("\\s+")).toList();
  }

  /**
   * The inherited environment without DEPOT_* variables (a developer's settings must not leak in) and without
   * the JVM's option variables (they add a "Picked up ..." line to every child's stderr).
   */
  static Map<String, String> cleanEnv() {
    Set<String> jvmOptions = Set.of("JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS");
    return System.getenv().entrySet().stream()
        .filter(e -> !e.getKey().startsWith("DEPOT_") && !jvmOptions.contains(e.getKey()))
        .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    }
  }

  static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static void deleteTree(Path root) throws IOException {
    if (root == null || !Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  interface Check {
    boolean ok() throws Exception;
  }

  interface Describe {
    String get() throws Exception;
  }

  /** Polls {@code check} every 250 ms; fails with {@code what} and {@code describe} if it does not hold in time. */
  static void await(String what, long timeoutMs, Check check, Describe describe) throws Exception {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (System.currentTimeMillis() < deadline) {
      if (check.ok()) {
        return;
      }
      Thread.sleep(250);
    }
    throw new AssertionError("not within " + timeoutMs + " ms: " + what + "; " + describe.get());
  }

  static long millisSince(long nanoTime) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanoTime);
  }
}
