package depot.process;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The built {@code depot.jar} as real separate OS processes: a control node (directory + coordinator +
 * gateway) and three storage nodes forming a Hazelcast cluster over loopback, driven by the CLI, each
 * command its own {@code java -jar depot.jar ...} process. Then the whole cluster is stopped with SIGTERM and
 * started again on the same data directories, and everything still in the catalog must come back intact.
 *
 * <p>Every cluster gets a unique cluster name and Hazelcast base port 5901, so it never merges with another
 * test cluster or a developer's cluster on this host. Node logs: {@code target/process-it/}.
 *
 * <p>The steps depend on each other and run in order; once one fails the rest are skipped.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ProcessClusterIT {
  static final int CLUSTER_PORT = 5901;
  static final long HEALTH_TIMEOUT_MS = 60_000;
  static final long CONVERGE_TIMEOUT_MS = 30_000;
  static final long STOP_GRACE_MS = 20_000;
  static final long CLI_TIMEOUT_MS = 60_000;
  static final String CONTROL = "control";
  static final List<String> STORAGE = List.of("storage-1", "storage-2", "storage-3");

  static final String BIG = "big.bin";
  static final String EMPTY = "empty.dat";
  static final String UNICODE = "relatório final.txt";
  static final String COPY = "copy of report.txt";

  static Path moduleDir;
  static Path repoRoot;
  static Path jar;
  static Path logDir;
  static Path tmp;
  static String clusterName;
  static String adminToken;
  static int httpPort;
  static String server;
  static List<String> hazelcastArgs;
  static Map<String, String> baseEnv;

  /** The nodes of the current generation of the cluster, by node id. */
  static final Map<String, NodeProcess> nodes = new LinkedHashMap<>();
  /** Every node process ever started, for cleanup and log dumps. */
  static final List<NodeProcess> started = new CopyOnWriteArrayList<>();
  static Thread killHook;
  static int generation;
  static int cliSeq;

  /** The first client's credentials directory. */
  static Path configDir;
  /** What should be on the server: name -> local file (content), and the replicas asked for. */
  static final Map<String, Path> files = new LinkedHashMap<>();
  static final Map<String, Integer> replicas = new LinkedHashMap<>();

  static boolean broken;

  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @RegisterExtension
  static final TestWatcher WATCHER = new TestWatcher() {
    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
      broken = true;
      System.out.println("[process-it] step " + context.getDisplayName() + " failed: " + cause);
      dumpLogs();
    }

    @Override
    public void testAborted(ExtensionContext context, Throwable cause) {
      // skipped after an earlier failure; nothing new to show
    }
  };

  // ---------------------------------------------------------------------------------------------------------
  // lifecycle

  @BeforeAll
  static void startCluster() throws Exception {
    moduleDir = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath().normalize();
    if (!Files.isRegularFile(moduleDir.resolve("pom.xml")) || !Files.isDirectory(moduleDir.resolve("src"))) {
      fail("cannot locate the launcher module directory (basedir=" + moduleDir + ")");
    }
    jar = moduleDir.resolve("target").resolve("depot.jar");
    if (!Files.isRegularFile(jar)) {
      fail("missing " + jar + ": run `mvn package` first (failsafe runs after package in `mvn verify`)");
    }
    repoRoot = moduleDir.getParent();
    for (String f : List.of("conf/control.json", "conf/storage.json", "conf/cluster.xml")) {
      if (!Files.isRegularFile(repoRoot.resolve(f))) {
        fail("missing " + repoRoot.resolve(f) + " (expected the repository root to be the launcher's parent)");
      }
    }
    logDir = moduleDir.resolve("target").resolve("process-it");
    ProcessCluster.deleteTree(logDir);
    Files.createDirectories(logDir);
    tmp = Files.createTempDirectory("depot-proc-it-");
    clusterName = "depot-proc-" + UUID.randomUUID().toString().substring(0, 8);
    adminToken = "proc-it-admin-" + UUID.randomUUID();
    httpPort = ProcessCluster.freePort();
    server = "http://127.0.0.1:" + httpPort;
    hazelcastArgs = ProcessCluster.hazelcastArgs(repoRoot);
    baseEnv = ProcessCluster.cleanEnv();
    configDir = tmp.resolve("cli-config-1");

    killHook = new Thread(() -> started.forEach(NodeProcess::kill), "process-it-kill");
    Runtime.getRuntime().addShutdownHook(killHook);

    if (portInUse(CLUSTER_PORT)) {
      System.out.println("[process-it] note: port " + CLUSTER_PORT + " is already taken; Hazelcast will"
          + " auto-increment (cluster name " + clusterName + " keeps the clusters apart)");
    }
    System.out.println("[process-it] cluster " + clusterName + ", gateway " + server + ", data " + tmp
        + ", logs " + logDir);
    try {
      startNodes();
    } catch (Throwable t) {
      broken = true;
      dumpLogs();
      throw t;
    }
  }

  @AfterAll
  static void stopEverything() throws Exception {
    try {
      List<NodeProcess> all = new ArrayList<>(started);
      all.forEach(p -> {
        if (p.isAlive()) {
          p.terminate();
        }
      });
      for (NodeProcess p : all) {
        if (!p.awaitExit(STOP_GRACE_MS)) {
          System.out.println("[process-it] " + p.name() + " ignored SIGTERM for " + STOP_GRACE_MS + " ms; killed");
        }
      }
    } finally {
      if (killHook != null) {
        try {
          Runtime.getRuntime().removeShutdownHook(killHook);
        } catch (IllegalStateException shuttingDown) {
          // the hook runs anyway
        }
      }
      if (tmp != null) {
        ProcessCluster.deleteTree(tmp);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // steps

  @Test
  @Order(1)
  void depositListRetrieve() throws Exception {
    skipIfBroken();
    Charset jnu = Charset.forName(System.getProperty("sun.jnu.encoding", Charset.defaultCharset().name()));
    assertTrue(jnu.newEncoder().canEncode(UNICODE), "this test passes the name '" + UNICODE + "' on command"
        + " lines and in file names, which needs a UTF-8 locale; sun.jnu.encoding is " + jnu
        + " (run with LANG=C.UTF-8)");

    CliResult login = cli(configDir, "login", "--nickname", "proc-it");
    login.assertOk();
    assertTrue(login.out().contains("Logged in as proc-it"), login.toString());
    assertTrue(Files.isRegularFile(configDir.resolve("credentials.json")), "no credentials.json after " + login);

    Path in = Files.createDirectories(tmp.resolve("in"));
    long seed = System.nanoTime();
    byte[] big = new byte[5 * 1024 * 1024 + 123];
    new Random(seed).nextBytes(big);
    System.out.println("[process-it] random content seed " + seed);
    files.put(BIG, Files.write(in.resolve(BIG), big));
    files.put(EMPTY, Files.write(in.resolve(EMPTY), new byte[0]));
    files.put(UNICODE, Files.writeString(in.resolve(UNICODE),
        "Relatório final — ünïcödé ✓ 日本語\n".repeat(200), StandardCharsets.UTF_8));
    replicas.put(BIG, 3);
    replicas.put(EMPTY, 2);
    replicas.put(UNICODE, 3);

    for (String name : List.of(BIG, EMPTY, UNICODE)) {
      // The server name is the local file name: no --name, so the unicode name travels as FILE.
      CliResult r = cli(configDir, "deposit", files.get(name).toString(), "--replicas", replicas.get(name).toString());
      r.assertOk();
      assertTrue(r.out().startsWith("Deposited " + name + ":"), r.toString());
      assertTrue(r.out().contains(sha256(files.get(name)).substring(0, 12)), "short sha256 missing: " + r);
      assertTrue(!r.out().contains("already stored"), "first deposit claims dedup: " + r);
    }

    JsonObject listed = awaitListing(configDir, "every file reaches liveReplicas == replicas",
        l -> files.keySet().stream().allMatch(n -> {
          JsonObject f = l.get(n);
          return f != null && Objects.equals(f.getInteger("liveReplicas"), replicas.get(n));
        }));
    for (String name : files.keySet()) {
      JsonObject f = byName(listed).get(name);
      assertEquals(replicas.get(name), f.getInteger("replicas"), "replicas of " + name + " in " + f);
      assertEquals(Files.size(files.get(name)), f.getLong("size"), "size of " + name + " in " + f);
      assertEquals(sha256(files.get(name)), f.getString("sha256"), "sha256 of " + name + " in " + f);
    }

    for (String name : files.keySet()) {
      assertRetrievesIdentical(configDir, name);
    }
  }

  @Test
  @Order(2)
  void replicasAreOnTheStorageNodesDisks() throws Exception {
    skipIfBroken();
    for (String name : files.keySet()) {
      String sha = sha256(files.get(name));
      Map<String, List<String>> where = new TreeMap<>();
      Map<String, Long> perNode = replicasOnDisk(sha, where);
      System.out.println("[process-it] " + name + " (" + Files.size(files.get(name)) + " bytes) on disk: " + where);
      long total = perNode.values().stream().mapToLong(Long::longValue).sum();
      assertEquals(replicas.get(name).longValue(), total, name + ": replicas on disk per node " + where);
      assertTrue(perNode.values().stream().allMatch(c -> c <= 1), name + ": two replicas on one node " + perNode);
    }
    // The big file: a replica file of its own (blobs/xx/<id> + .meta) on each of the three storage nodes.
    Map<String, List<String>> where = new TreeMap<>();
    replicasOnDisk(sha256(files.get(BIG)), where);
    assertEquals(Map.of("storage-1", List.of("file"), "storage-2", List.of("file"), "storage-3", List.of("file")), where);
  }

  @Test
  @Order(3)
  void dedupReplicasDeleteAndErrors() throws Exception {
    skipIfBroken();
    // Same content under another name: the server already has it, nothing is uploaded.
    CliResult dup = cli(configDir, "deposit", files.get(UNICODE).toString(), "--name", COPY);
    dup.assertOk();
    assertTrue(dup.out().contains("already stored"), "no dedup reported: " + dup);
    Map<String, JsonObject> listed = byName(listJson(configDir));
    assertNotNull(listed.get(COPY), COPY + " not listed: " + listed.keySet());
    assertEquals(sha256(files.get(UNICODE)), listed.get(COPY).getString("sha256"));

    // Fewer replicas: the record says 1 at once, the surplus copies go away.
    CliResult rep = cli(configDir, "replicas", BIG, "1");
    rep.assertOk();
    assertTrue(rep.out().contains(BIG + ": replicas"), rep.toString());
    replicas.put(BIG, 1);
    assertEquals(1, byName(listJson(configDir)).get(BIG).getInteger("replicas"));
    awaitListing(configDir, BIG + " trimmed to 1 live replica",
        l -> l.get(BIG) != null && Integer.valueOf(1).equals(l.get(BIG).getInteger("liveReplicas")));
    String bigSha = sha256(files.get(BIG));
    awaitCondition("the surplus replicas of " + BIG + " are removed from disk",
        () -> replicaFiles(bigSha).values().stream().mapToLong(Long::longValue).sum() == 1,
        () -> "replica files per node: " + replicaFiles(bigSha));
    assertRetrievesIdentical(configDir, BIG);

    // Deleting the dedup'ed name leaves the other name (same content) intact.
    CliResult del = cli(configDir, "delete", COPY);
    del.assertOk();
    assertTrue(del.out().contains("Deleted " + COPY), del.toString());
    Set<String> names = byName(listJson(configDir)).keySet();
    assertTrue(!names.contains(COPY), COPY + " still listed after delete: " + names);
    assertEquals(files.keySet(), names);
    assertRetrievesIdentical(configDir, UNICODE);

    // Failures: non-zero exit, exactly one line on stderr, nothing written.
    for (String missing : List.of(COPY, "never-deposited-" + UUID.randomUUID().toString().substring(0, 8))) {
      Path out = tmp.resolve("out").resolve("missing.bin");
      CliResult r = cli(configDir, "retrieve", missing, "-o", out.toString());
      assertNotEquals(0, r.exit(), "retrieve of missing file succeeded: " + r);
      List<String> errLines = r.err().strip().lines().toList();
      assertEquals(1, errLines.size(), "expected one stderr line: " + r);
      assertTrue(errLines.get(0).startsWith("depot: "), r.toString());
      assertTrue(!Files.exists(out), "failed retrieve wrote " + out);
    }
  }

  @Test
  @Order(4)
  void nodesShowsFourNodesUp() throws Exception {
    skipIfBroken();
    assertFourNodesUp();
    // status: the fsck-like report agrees (files fully replicated, every node live).
    CliResult r = cli(configDir, Map.of("DEPOT_ADMIN_TOKEN", adminToken), "status", "--json");
    r.assertOk();
    JsonObject report = new JsonObject(r.out());
    assertEquals("HEALTHY", report.getString("status"), r.out());
    assertEquals(4, report.getLong("nodesLive"), r.out());
    assertEquals(0, report.getLong("lost"), r.out());
    assertTrue(report.getLong("files") >= 3 && report.getLong("files").equals(report.getLong("healthy")), r.out());
  }

  @Test
  @Order(5)
  void restartKeepsCatalogAndContent() throws Exception {
    skipIfBroken();
    JsonObject creds = new JsonObject(Files.readString(configDir.resolve("credentials.json"), StandardCharsets.UTF_8));
    String clientId = creds.getString("clientId");
    String token = creds.getString("token");
    assertNotNull(clientId, "no clientId in " + creds.fieldNames());
    assertNotNull(token, "no token in " + creds.fieldNames());

    // The whole cluster down: storage nodes, then the control node, each by SIGTERM.
    List<String> ungraceful = new ArrayList<>();
    List<NodeProcess> storage = STORAGE.stream().map(nodes::get).toList();
    long t0 = System.nanoTime();
    storage.forEach(NodeProcess::terminate);
    for (NodeProcess p : storage) {
      awaitStopped(p, t0, ungraceful);
    }
    NodeProcess control = nodes.get(CONTROL);
    long t1 = System.nanoTime();
    control.terminate();
    awaitStopped(control, t1, ungraceful);
    assertEquals(List.of(), ungraceful, "nodes that did not exit within " + STOP_GRACE_MS + " ms of SIGTERM");
    nodes.clear();

    startNodes();

    // A new machine, so to speak: new credentials directory, reconnect with the old id and token.
    Path configDir2 = tmp.resolve("cli-config-2");
    CliResult login = cli(configDir2, "login", "--client-id", clientId, "--token", token);
    login.assertOk();
    assertTrue(login.out().contains(clientId), login.toString());

    JsonObject listed = awaitListing(configDir2, "the catalog is back with all replicas live",
        l -> l.keySet().equals(files.keySet()) && files.keySet().stream().allMatch(n -> {
          Integer live = l.get(n).getInteger("liveReplicas");
          return live != null && live >= replicas.get(n);
        }));
    for (String name : files.keySet()) {
      JsonObject f = byName(listed).get(name);
      assertEquals(replicas.get(name), f.getInteger("replicas"), "replicas of " + name + " after restart: " + f);
      assertEquals(sha256(files.get(name)), f.getString("sha256"), "sha256 of " + name + " after restart: " + f);
      assertRetrievesIdentical(configDir2, name);
    }
    assertFourNodesUp();
  }

  // ---------------------------------------------------------------------------------------------------------
  // cluster

  static void awaitStopped(NodeProcess p, long since, List<String> ungraceful) {
    boolean graceful = p.awaitExit(STOP_GRACE_MS);
    System.out.println("[process-it] stopped " + p + " " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since)
        + " ms after SIGTERM" + (graceful ? "" : ", killed with SIGKILL"));
    if (!graceful) {
      ungraceful.add(p.name());
    }
  }

  /** Control node first (it is the directory), then the storage nodes together; waits for health. */
  static void startNodes() throws Exception {
    generation++;
    long t0 = System.nanoTime();
    startNode(CONTROL, "conf/control.json", Map.of("DEPOT_HTTP_PORT", String.valueOf(httpPort)));
    awaitGateway();
    for (String id : STORAGE) {
      startNode(id, "conf/storage.json", Map.of("DEPOT_STORAGE_PORT", "0"));
    }
    awaitHealthy(STORAGE.size());
    // The coordinator refreshes its view of the storage nodes once per heartbeat interval (1 s).
    Thread.sleep(1500);
    System.out.println("[process-it] cluster generation " + generation + " up in "
        + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms");
  }

  static void startNode(String id, String conf, Map<String, String> extra) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessCluster.javaBin());
    cmd.add("-Xmx256m");
    cmd.addAll(hazelcastArgs);
    cmd.addAll(List.of("-jar", jar.toString(), "node", "-cluster", "-conf", conf));
    Map<String, String> env = new LinkedHashMap<>();
    env.put("DEPOT_NODE_ID", id);
    env.put("DEPOT_DATA_DIR", tmp.resolve("data").resolve(id).toString());
    env.put("DEPOT_CLUSTER_NAME", clusterName);
    env.put("DEPOT_CLUSTER_PORT", String.valueOf(CLUSTER_PORT));
    env.put("DEPOT_CLUSTER_MEMBERS", "127.0.0.1");
    env.put("DEPOT_ADMIN_TOKEN", adminToken);
    env.putAll(extra);
    String logName = id + (generation == 1 ? "" : ".restart" + (generation > 2 ? generation - 1 : "")) + ".log";
    NodeProcess p = NodeProcess.start(id, cmd, repoRoot, baseEnv, env, logDir.resolve(logName));
    nodes.put(id, p);
    started.add(p);
    System.out.println("[process-it] started " + p + ", log " + p.log());
  }

  /** Until the control node's HTTP server answers at all (503 while no storage node is up is fine). */
  static void awaitGateway() throws Exception {
    long deadline = System.currentTimeMillis() + HEALTH_TIMEOUT_MS;
    while (System.currentTimeMillis() < deadline) {
      checkAlive();
      if (health() != null) {
        return;
      }
      Thread.sleep(250);
    }
    fail("the control node's gateway did not answer GET " + server + "/health within " + HEALTH_TIMEOUT_MS + " ms");
  }

  static void awaitHealthy(int storageNodes) throws Exception {
    long deadline = System.currentTimeMillis() + HEALTH_TIMEOUT_MS;
    HttpResponse<String> last = null;
    while (System.currentTimeMillis() < deadline) {
      checkAlive();
      last = health();
      if (last != null && last.statusCode() == 200) {
        JsonObject h = new JsonObject(last.body());
        if ("UP".equals(h.getString("status")) && h.getLong("liveStorageNodes", 0L) >= storageNodes) {
          return;
        }
      }
      Thread.sleep(250);
    }
    fail("GET /health did not report " + storageNodes + " live storage nodes within " + HEALTH_TIMEOUT_MS
        + " ms; last answer: " + (last == null ? "none" : last.statusCode() + " " + last.body()));
  }

  /** GET /health, or null while nothing answers. */
  static HttpResponse<String> health() throws InterruptedException {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create(server + "/health")).timeout(Duration.ofSeconds(5))
          .GET().build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException notYet) {
      return null;
    }
  }

  static void checkAlive() {
    for (NodeProcess p : nodes.values()) {
      if (!p.isAlive()) {
        fail("node " + p + " died during start-up; its log " + p.log() + " ends with:\n" + p.tail(40));
      }
    }
  }

  static void assertFourNodesUp() throws Exception {
    CliResult r = cli(configDir, Map.of("DEPOT_ADMIN_TOKEN", adminToken), "nodes", "--json");
    r.assertOk();
    JsonArray list = new JsonObject(r.out()).getJsonArray("nodes");
    assertNotNull(list, "no nodes array: " + r);
    Map<String, String> status = new TreeMap<>();
    for (Object o : list) {
      JsonObject n = (JsonObject) o;
      status.put(n.getString("id"), n.getString("status"));
    }
    Map<String, String> expected = new TreeMap<>();
    expected.put(CONTROL, "UP");
    STORAGE.forEach(s -> expected.put(s, "UP"));
    assertEquals(expected, status, "nodes --json: " + r.out());
    long leaders = list.stream().map(o -> (JsonObject) o).filter(n -> Boolean.TRUE.equals(n.getValue("leader"))).count();
    assertEquals(1, leaders, "exactly one leader expected: " + r.out());
  }

  static void dumpLogs() {
    StringBuilder sb = new StringBuilder("\n========== process-it: node logs (last 40 lines each) ==========\n");
    for (NodeProcess p : started) {
      sb.append("---------- ").append(p).append(": ").append(p.log()).append('\n').append(p.tail(40)).append('\n');
    }
    sb.append("================================================================\n");
    System.out.println(sb);
  }

  // ---------------------------------------------------------------------------------------------------------
  // CLI

  record CliResult(String command, int exit, String out, String err, long millis) {
    void assertOk() {
      assertEquals(0, exit, "command failed: " + this);
    }

    @Override
    public String toString() {
      return "`" + command + "` -> exit " + exit + " in " + millis + " ms\n  stdout: " + out.strip()
          + "\n  stderr: " + err.strip();
    }
  }

  static CliResult cli(Path configDir, String... args) throws Exception {
    return cli(configDir, Map.of(), args);
  }

  /** {@code java -jar depot.jar ARGS} as its own process, against this cluster's gateway. */
  static CliResult cli(Path configDir, Map<String, String> extraEnv, String... args) throws Exception {
    int seq = ++cliSeq;
    Path dir = Files.createDirectories(tmp.resolve("cli"));
    Path out = dir.resolve(seq + ".out");
    Path err = dir.resolve(seq + ".err");
    List<String> cmd = new ArrayList<>(List.of(ProcessCluster.javaBin(), "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
        "-jar", jar.toString()));
    cmd.addAll(Arrays.asList(args));
    ProcessBuilder pb = new ProcessBuilder(cmd)
        .directory(Files.createDirectories(tmp.resolve("work")).toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .redirectOutput(out.toFile())
        .redirectError(err.toFile());
    pb.environment().clear();
    pb.environment().putAll(baseEnv);
    pb.environment().put("DEPOT_SERVER", server);
    pb.environment().put("DEPOT_CONFIG_DIR", configDir.toString());
    pb.environment().putAll(extraEnv);
    long t0 = System.nanoTime();
    Process p = pb.start();
    String shown = "depot " + String.join(" ", args);
    if (!p.waitFor(CLI_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
      fail("`" + shown + "` did not finish within " + CLI_TIMEOUT_MS + " ms; stdout: "
          + Files.readString(out, StandardCharsets.UTF_8) + " stderr: " + Files.readString(err, StandardCharsets.UTF_8));
    }
    CliResult r = new CliResult(shown, p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    System.out.println("[process-it] " + r.command() + " -> " + r.exit() + " (" + r.millis() + " ms)");
    return r;
  }

  static JsonObject listJson(Path configDir) throws Exception {
    CliResult r = cli(configDir, "list", "--json");
    r.assertOk();
    try {
      JsonObject json = new JsonObject(r.out());
      assertNotNull(json.getJsonArray("files"), "no files array: " + r);
      return json;
    } catch (RuntimeException e) {
      throw new AssertionError("list --json did not print JSON: " + r, e);
    }
  }

  static Map<String, JsonObject> byName(JsonObject listing) {
    Map<String, JsonObject> byName = new LinkedHashMap<>();
    for (Object o : listing.getJsonArray("files")) {
      JsonObject f = (JsonObject) o;
      byName.put(f.getString("name"), f);
    }
    return byName;
  }

  /** Polls {@code list --json} until {@code done} holds for the files by name; returns the last listing. */
  static JsonObject awaitListing(Path configDir, String what,
                                 Predicate<Map<String, JsonObject>> done) throws Exception {
    long deadline = System.currentTimeMillis() + CONVERGE_TIMEOUT_MS;
    JsonObject last;
    do {
      last = listJson(configDir);
      if (done.test(byName(last))) {
        return last;
      }
      Thread.sleep(500);
    } while (System.currentTimeMillis() < deadline);
    fail("not within " + CONVERGE_TIMEOUT_MS + " ms: " + what + "; last listing: " + last.encodePrettily());
    return last;
  }

  static void awaitCondition(String what, ProcessCluster.Check check, ProcessCluster.Describe describe) throws Exception {
    ProcessCluster.await(what, CONVERGE_TIMEOUT_MS, check, describe);
  }

  static void assertRetrievesIdentical(Path configDir, String name) throws Exception {
    Path outDir = Files.createDirectories(tmp.resolve("out"));
    Path out = outDir.resolve("retrieved-" + cliSeq + ".bin");
    CliResult r = cli(configDir, "retrieve", name, "-o", out.toString());
    r.assertOk();
    assertTrue(r.out().contains("Retrieved " + name), r.toString());
    byte[] expected = Files.readAllBytes(files.get(name));
    byte[] actual = Files.readAllBytes(out);
    if (!Arrays.equals(expected, actual)) {
      fail(name + " retrieved with different bytes: expected " + expected.length + " bytes sha256 "
          + sha256(expected) + ", got " + actual.length + " bytes sha256 " + sha256(actual));
    }
    Files.delete(out);
  }

  // ---------------------------------------------------------------------------------------------------------
  // disks

  /**
   * Per storage node: how many replicas of this content it holds on disk, i.e. replica manifests
   * ({@code blobs/xx/<id>.meta}) whose {@code sha256} is this one, plus one if an append-only pack file
   * ({@code packs/*.dat}, where small replicas may be packed) mentions the sha256 in a record header.
   */
  static Map<String, Long> replicaFiles(String sha256) throws IOException {
    return replicasOnDisk(sha256, null);
  }

  /** As {@link #replicaFiles}; {@code where}, if given, gets "file" or "packed" per replica found, by node. */
  static Map<String, Long> replicasOnDisk(String sha256, Map<String, List<String>> where) throws IOException {
    Map<String, Long> perNode = new TreeMap<>();
    byte[] needle = sha256.getBytes(StandardCharsets.US_ASCII);
    for (String id : STORAGE) {
      Path data = tmp.resolve("data").resolve(id);
      long count = 0;
      Path blobs = data.resolve("blobs");
      List<String> kinds = new ArrayList<>();
      if (Files.isDirectory(blobs)) {
        try (Stream<Path> walk = Files.walk(blobs)) {
          walk.filter(p -> p.getFileName().toString().endsWith(".meta"))
              .filter(p -> sha256.equals(metaSha(p)))
              .forEach(p -> kinds.add("file"));
        }
      }
      Path packs = data.resolve("packs");
      if (Files.isDirectory(packs)) {
        try (Stream<Path> list = Files.list(packs)) {
          if (list.filter(p -> p.getFileName().toString().endsWith(".dat")).anyMatch(p -> contains(p, needle))) {
            kinds.add("packed");
          }
        }
      }
      count = kinds.size();
      if (where != null) {
        where.put(id, kinds);
      }
      perNode.put(id, count);
    }
    return perNode;
  }

  private static boolean contains(Path file, byte[] needle) {
    byte[] hay;
    try {
      hay = Files.readAllBytes(file);
    } catch (IOException vanished) {
      return false;
    }
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  private static String metaSha(Path meta) {
    try {
      return new JsonObject(Files.readString(meta, StandardCharsets.UTF_8)).getString("sha256");
    } catch (Exception vanishedOrPartial) {
      return null;
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // helpers

  static void skipIfBroken() {
    assumeTrue(!broken, "skipped: an earlier step failed");
  }

  static boolean portInUse(int port) {
    try (Socket s = new Socket()) {
      s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 300);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  static String sha256(Path file) throws Exception {
    return sha256(Files.readAllBytes(file));
  }

  static String sha256(byte[] data) {
    return ProcessCluster.sha256(data);
  }
}
