package depot.process;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Four hosts simulated with network namespaces on a bridge: one control host (directory, coordinator,
 * gateway) and three storage hosts, each running the built jar with {@code node -cluster -cluster-host}.
 * A storage host is killed with SIGKILL; the test measures how long until it is DOWN and until every file
 * has its replicas again, then checks every file byte for byte. Needs root (as CI has) and iproute2.
 */
class MultiHostIT {
  private static final String NET = "10.77.0.";
  private static final String BRIDGE = "dpbr0";
  private static final String SECRET = "multihost-secret";
  private static final String ADMIN = "multihost-admin";
  private static final String PREFIX = "dp" + Integer.toHexString(new Random().nextInt(0xfff));
  private static final List<String> HOSTS = List.of("control", "s1", "s2", "s3");
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(3)).build();
  private static final List<NodeProcess> nodes = new ArrayList<>();
  private static final List<String> namespaces = new ArrayList<>();
  private static Path work;
  private static String gateway;

  static String ns(String host) {
    return PREFIX + "-" + host;
  }

  static String ip(String host) {
    return NET + (HOSTS.indexOf(host) + 1);
  }

  static void sh(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed: " + out.strip());
    }
  }

  @BeforeAll
  static void up() throws Exception {
    Path repo = Path.of("").toAbsolutePath().getParent();
    Path jar = Path.of("target", "depot.jar").toAbsolutePath();
    assertTrue(Files.exists(jar), "build the jar first: " + jar);
    if (!"root".equals(System.getProperty("user.name"))) {
      fail("MultiHostIT needs root for network namespaces (CI runs as root)");
    }
    work = Files.createTempDirectory("depot-multihost-");
    Runtime.getRuntime().addShutdownHook(new Thread(MultiHostIT::cleanUp));
    quietly("ip", "link", "delete", BRIDGE); // left over by a run that was killed before its clean-up
    sh("ip", "link", "add", BRIDGE, "type", "bridge");
    sh("ip", "addr", "add", NET + "254/24", "dev", BRIDGE);
    sh("ip", "link", "set", BRIDGE, "up");
    for (String host : HOSTS) {
      String ns = ns(host);
      sh("ip", "netns", "add", ns);
      namespaces.add(ns);
      sh("ip", "link", "add", ns + "-a", "type", "veth", "peer", "name", ns + "-b");
      sh("ip", "link", "set", ns + "-b", "netns", ns);
      sh("ip", "link", "set", ns + "-a", "master", BRIDGE);
      sh("ip", "link", "set", ns + "-a", "up");
      sh("ip", "netns", "exec", ns, "ip", "addr", "add", ip(host) + "/24", "dev", ns + "-b");
      sh("ip", "netns", "exec", ns, "ip", "link", "set", ns + "-b", "up");
      sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
    }
    String members = String.join(",", HOSTS.stream().map(MultiHostIT::ip).toList());
    String clusterName = "depot-multihost-" + UUID.randomUUID().toString().substring(0, 6);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String[] hazelcastFlags = ("--add-modules java.se --add-exports java.base/jdk.internal.ref=ALL-UNNAMED "
        + "--add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/java.nio=ALL-UNNAMED "
        + "--add-opens java.base/sun.nio.ch=ALL-UNNAMED").split(" ");
    for (String host : HOSTS) {
      List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns(host), java, "-Xmx256m"));
      cmd.addAll(List.of(hazelcastFlags));
      cmd.addAll(List.of("-jar", jar.toString(), "node", "-cluster", "-cluster-host", ip(host), "-conf",
          host.equals("control") ? "conf/control.json" : "conf/storage.json"));
      Map<String, String> env = new LinkedHashMap<>();
      env.put("PATH", System.getenv("PATH"));
      env.put("DEPOT_NODE_ID", host.equals("control") ? "control" : "storage-" + host);
      env.put("DEPOT_DATA_DIR", work.resolve(host).toString());
      env.put("DEPOT_CLUSTER_MEMBERS", members);
      env.put("DEPOT_CLUSTER_NAME", clusterName);
      env.put("DEPOT_CLUSTER_SECRET", SECRET);
      env.put("DEPOT_ADMIN_TOKEN", ADMIN);
      env.put("DEPOT_STORAGE_PORT", "7000");
      env.put("DEPOT_DEFAULT_REPLICAS", "2");
      nodes.add(NodeProcess.start(host, cmd, repo, Map.of(), env, Path.of("target", "multihost", host + ".log")));
    }
    gateway = "http://" + ip("control") + ":8080";
    await("3 live storage nodes", 90_000, () -> liveStorage() == 3);
  }

  @AfterAll
  static void down() {
    cleanUp();
  }

  static synchronized void cleanUp() {
    nodes.forEach(n -> n.stop(10_000));
    nodes.clear();
    for (String ns : namespaces) {
      quietly("ip", "netns", "pids", ns); // nothing should be left; kill whatever is
      quietly("ip", "netns", "delete", ns);
      quietly("ip", "link", "delete", ns + "-a");
    }
    namespaces.clear();
    quietly("ip", "link", "delete", BRIDGE);
    if (work != null) {
      try (Stream<Path> walk = Files.walk(work)) {
        walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException ignored) {
        // best effort
      }
    }
  }

  static void quietly(String... command) {
    try {
      new ProcessBuilder(command).redirectErrorStream(true).start().waitFor();
    } catch (Exception ignored) {
      // cleaning up
    }
  }

  static void await(String what, long timeoutMs, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (System.currentTimeMillis() < deadline) {
      try {
        if (condition.getAsBoolean()) {
          return;
        }
      } catch (RuntimeException e) {
        // not yet
      }
      Thread.sleep(200);
    }
    StringBuilder logs = new StringBuilder();
    nodes.forEach(n -> logs.append("\n--- ").append(n.name()).append(" ---\n").append(n.tail(25)));
    fail("timed out waiting for " + what + logs);
  }

  static HttpResponse<String> call(String method, String path, String token, HttpRequest.BodyPublisher body)
      throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(gateway + path)).timeout(Duration.ofSeconds(60))
        .method(method, body);
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonArray nodesList() {
    try {
      return new JsonObject(call("GET", "/api/v1/nodes", ADMIN, HttpRequest.BodyPublishers.noBody()).body())
          .getJsonArray("nodes");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static long liveStorage() {
    return nodesList().stream().map(o -> (JsonObject) o)
        .filter(n -> n.getJsonArray("roles").contains("storage") && "UP".equals(n.getString("status"))).count();
  }

  static String status(String nodeId) {
    return nodesList().stream().map(o -> (JsonObject) o).filter(n -> nodeId.equals(n.getString("id")))
        .map(n -> n.getString("status")).findFirst().orElse("?");
  }

  static JsonArray files(String token) {
    try {
      return new JsonObject(call("GET", "/api/v1/files", token, HttpRequest.BodyPublishers.noBody()).body())
          .getJsonArray("files");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void aKilledHostIsDetectedAndItsReplicasAreRestored() throws Exception {
    String token = new JsonObject(call("POST", "/api/v1/clients", null,
        HttpRequest.BodyPublishers.ofString("{\"nickname\":\"multihost\"}")).body()).getString("token");
    Map<String, byte[]> data = new LinkedHashMap<>();
    Random random = new Random(42);
    for (int i = 0; i < 8; i++) {
      byte[] bytes = new byte[i % 2 == 0 ? 100_000 + i : 2_000_000 + i]; // packed and file replicas
      random.nextBytes(bytes);
      data.put("file-" + i + ".bin", bytes);
      HttpResponse<String> r = call("PUT", "/api/v1/files/file-" + i + ".bin?replicas=2", token,
          HttpRequest.BodyPublishers.ofByteArray(bytes));
      assertEquals(201, r.statusCode(), r.body());
    }
    // Every storage host holds replicas: whichever dies, some files lose a copy.
    NodeProcess victim = nodes.stream().filter(n -> n.name().equals("s3")).findFirst().orElseThrow();
    long killedAt = System.currentTimeMillis();
    victim.kill();
    await("storage-s3 DOWN", 30_000, () -> "DOWN".equals(status("storage-s3")));
    long detectedMs = System.currentTimeMillis() - killedAt;
    await("every file back at 2 live replicas", 60_000, () -> files(token).stream().map(o -> (JsonObject) o)
        .allMatch(f -> f.getInteger("liveReplicas") >= 2));
    long repairedMs = System.currentTimeMillis() - killedAt;
    System.out.printf("multi-host: SIGKILL of host s3 detected in %d ms; all replicas restored %d ms after the kill%n",
        detectedMs, repairedMs);
    // Expiry is 4 s; the margin covers the test's polling on a loaded CI machine.
    assertTrue(detectedMs < 8_000, "detected in " + detectedMs + " ms");
    assertAllRetrievable(token, data);

    // Cut another storage host's link: it is DOWN for the cluster, its copies do not count, reads go on.
    String cut = ns("s2") + "-a";
    long cutAt = System.currentTimeMillis();
    sh("ip", "link", "set", cut, "down");
    await("storage-s2 DOWN after its link was cut", 30_000, () -> "DOWN".equals(status("storage-s2")));
    long cutDetectedMs = System.currentTimeMillis() - cutAt;
    assertTrue(cutDetectedMs < 8_000, "link cut detected in " + cutDetectedMs + " ms");
    assertAllRetrievable(token, data);
    // The link comes back: the host rejoins (Hazelcast merges the split), counts again, files heal.
    long healAt = System.currentTimeMillis();
    sh("ip", "link", "set", cut, "up");
    await("storage-s2 UP after its link returned", 90_000, () -> "UP".equals(status("storage-s2")));
    await("every file at 2 live replicas after the heal", 60_000, () -> files(token).stream()
        .map(o -> (JsonObject) o).allMatch(f -> f.getInteger("liveReplicas") >= 2));
    System.out.printf("multi-host: link cut of host s2 detected in %d ms; after the link returned the cluster healed in %d ms%n",
        cutDetectedMs, System.currentTimeMillis() - healAt);
    assertAllRetrievable(token, data);
  }

  static void assertAllRetrievable(String token, Map<String, byte[]> data) throws Exception {
    for (Map.Entry<String, byte[]> e : data.entrySet()) {
      HttpResponse<byte[]> got = HTTP.send(HttpRequest.newBuilder(URI.create(gateway + "/api/v1/files/" + e.getKey()))
          .header("Authorization", "Bearer " + token).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
      assertEquals(200, got.statusCode(), e.getKey());
      assertArrayEquals(e.getValue(), got.body(), e.getKey());
    }
  }
}
