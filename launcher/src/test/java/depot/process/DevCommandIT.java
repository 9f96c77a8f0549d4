package depot.process;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code depot dev} as a user runs it: the built jar as its own process, stopped with SIGTERM (Ctrl-C's signal to
 * the JVM's shutdown hooks) and started again on the same folder; and two at once on one host.
 */
class DevCommandIT {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir
  Path tmp;

  private final List<Process> started = new ArrayList<>();

  /** A running {@code dev}: its process, its URL and admin token as it printed them, and everything it printed. */
  private record Dev(Process process, String url, String adminToken, List<String> out) {}

  @AfterEach
  void stopAll() throws Exception {
    for (Process p : started) {
      p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void twoDevClustersOnOneHostStayApartAndOneFolderServesOneAtATime() throws Exception {
    Dev a = start(tmp.resolve("a"));
    Dev b = start(tmp.resolve("b"));
    // Each is a cluster of its own four nodes: neither joined the other on loopback.
    assertEquals(List.of("main", "storage-1", "storage-2", "storage-3"), upNodes(a));
    assertEquals(List.of("main", "storage-1", "storage-2", "storage-3"), upNodes(b));
    assertNotEquals(clusterName(a), clusterName(b));

    Process second = command(tmp.resolve("a")).redirectErrorStream(true).start();
    started.add(second);
    assertTrue(second.waitFor(60, TimeUnit.SECONDS), "a second dev on a folder in use stops at once");
    assertEquals(1, second.exitValue());
    String said = new String(second.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertEquals("depot: " + tmp.resolve("a").toAbsolutePath() + " is in use by another depot dev; stop that one,"
        + " or pass --data DIR", said);
    assertEquals(List.of("main", "storage-1", "storage-2", "storage-3"), upNodes(a), "the first one is untouched");
  }

  @Test
  void stoppedWithSigtermAndStartedAgainItShowsEveryFileDepositedBefore() throws Exception {
    Path data = tmp.resolve("data");
    Dev first = start(data);
    HttpResponse<String> registered = send(HttpRequest.newBuilder(URI.create(first.url() + "/api/v1/clients"))
        .POST(HttpRequest.BodyPublishers.ofString("{\"nickname\": \"keeper\"}")).build());
    assertEquals(201, registered.statusCode(), registered.body());
    String token = new JsonObject(registered.body()).getString("token");
    byte[] content = "kept across a restart".getBytes(StandardCharsets.UTF_8);
    HttpResponse<String> deposited = send(HttpRequest.newBuilder(URI.create(first.url() + "/api/v1/files/kept.txt?replicas=3"))
        .header("Authorization", "Bearer " + token).PUT(HttpRequest.BodyPublishers.ofByteArray(content)).build());
    assertEquals(201, deposited.statusCode(), deposited.body());

    // SIGTERM, as Ctrl-C gives the JVM; through the handle, since Process.destroy() also closes our end of its output.
    first.process().toHandle().destroy();
    assertTrue(first.process().waitFor(60, TimeUnit.SECONDS), "dev stops on SIGTERM");
    waitFor(() -> first.out().contains("Stopping Depot..."), "the shutdown message", first.out());

    Dev again = start(data);
    HttpResponse<byte[]> read = HTTP.send(HttpRequest.newBuilder(URI.create(again.url() + "/api/v1/files/kept.txt"))
        .header("Authorization", "Bearer " + token).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(200, read.statusCode());
    assertEquals(new String(content, StandardCharsets.UTF_8), new String(read.body(), StandardCharsets.UTF_8));
    assertEquals(3, new JsonObject(send(HttpRequest.newBuilder(URI.create(again.url() + "/api/v1/files/kept.txt/meta"))
        .header("Authorization", "Bearer " + token).GET().build()).body()).getInteger("liveReplicas"));
  }

  @Test
  void theCliOnTheSameHostReadsAReplicaStraightFromItsFile() throws Exception {
    Dev dev = start(tmp.resolve("data"));
    Path cli = tmp.resolve("cli");
    assertEquals(0, depot(dev, cli, "login", "--nickname", "neighbour").exit());
    byte[] content = new byte[3 * 1024 * 1024 + 5];
    new java.util.Random(3).nextBytes(content);
    Path file = Files.write(tmp.resolve("near.bin"), content);
    assertEquals(0, depot(dev, cli, "deposit", file.toString(), "--replicas", "2").exit());

    Path out = tmp.resolve("back.bin");
    CliRun retrieve = depot(dev, cli, "retrieve", "near.bin", "-o", out.toString());
    assertEquals(0, retrieve.exit(), retrieve.out());
    assertEquals("Retrieved near.bin (3145733 bytes, all read from a replica's file on this host) to " + out,
        retrieve.out());
    assertTrue(java.util.Arrays.equals(content, Files.readAllBytes(out)), "the bytes deposited");
  }

  private record CliRun(int exit, String out) {}

  /** The CLI of the same jar against {@code dev}, with its credentials in {@code configDir}; waits for it. */
  private CliRun depot(Dev dev, Path configDir, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-jar", Path.of("target", "depot.jar").toAbsolutePath().toString()));
    command.addAll(List.of(args));
    Path said = Files.createTempFile(tmp, "cli", ".out");
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(said.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("DEPOT_"));
    pb.environment().put("DEPOT_SERVER", dev.url());
    pb.environment().put("DEPOT_CONFIG_DIR", configDir.toString());
    Process p = pb.start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "depot " + String.join(" ", args) + " finishes");
    return new CliRun(p.exitValue(), Files.readString(said).trim());
  }

  private ProcessBuilder command(Path data) {
    Path jar = Path.of("target", "depot.jar").toAbsolutePath();
    assertTrue(Files.isRegularFile(jar), "build the jar first: " + jar);
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-jar", jar.toString(), "dev", "--data", data.toString(), "--port", "0");
    pb.environment().keySet().removeIf(k -> k.startsWith("DEPOT_"));
    return pb;
  }

  /** Starts {@code dev} and waits for the lines that give its URL and admin token. */
  private Dev start(Path data) throws Exception {
    Process p = command(data).redirectErrorStream(true).start();
    started.add(p);
    List<String> out = new CopyOnWriteArrayList<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          out.add(line);
        }
      } catch (java.io.IOException ended) {
        // the process is gone
      }
    }, "dev-output-" + data.getFileName());
    reader.setDaemon(true);
    reader.start();
    waitFor(() -> out.stream().anyMatch(l -> l.contains("Admin token:")), "dev to print its URL and admin token", out);
    String url = field(out, "Dashboard and API:").replace("localhost", "127.0.0.1");
    return new Dev(p, url, field(out, "Admin token:"), out);
  }

  private static String field(List<String> out, String label) {
    String line = out.stream().filter(l -> l.contains(label)).findFirst().orElseThrow();
    return line.substring(line.indexOf(label) + label.length()).trim();
  }

  private static String clusterName(Dev dev) {
    String running = dev.out().stream().filter(l -> l.startsWith("Depot is running")).findFirst().orElseThrow();
    return running.substring(running.indexOf("cluster name ") + "cluster name ".length());
  }

  /** The ids of the nodes the directory shows UP, once every node has registered. */
  private static List<String> upNodes(Dev dev) throws Exception {
    List<String> ids = new ArrayList<>();
    long deadline = System.currentTimeMillis() + 30_000;
    while (System.currentTimeMillis() < deadline) {
      HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(dev.url() + "/api/v1/nodes"))
          .header("Authorization", "Bearer " + dev.adminToken()).GET().build());
      ids.clear();
      JsonArray nodes = new JsonObject(r.body()).getJsonArray("nodes");
      for (int i = 0; i < nodes.size(); i++) {
        if (nodes.getJsonObject(i).getString("status").startsWith("UP")) {
          ids.add(nodes.getJsonObject(i).getString("id"));
        }
      }
      ids.sort(null);
      if (ids.size() >= 4) {
        return ids;
      }
      Thread.sleep(500);
    }
    return ids;
  }

  private static HttpResponse<String> send(HttpRequest request) throws Exception {
    return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
  }

  private static void waitFor(java.util.function.BooleanSupplier condition, String what, List<String> out)
      throws InterruptedException {
    long deadline = System.currentTimeMillis() + 90_000;
    while (!condition.getAsBoolean()) {
      if (System.currentTimeMillis() > deadline) {
        throw new AssertionError("timed out waiting for " + what + "; dev printed:\n" + String.join("\n", out));
      }
      Thread.sleep(200);
    }
  }
}
