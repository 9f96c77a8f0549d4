package depot.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Commands against a tiny in-test HTTP server: what goes on the wire, and what the user sees. */
class DepotCliHttpTest {
  private static final String RECORD = """
      {"name":"%s","size":%d,"sha256":"%s","version":1,"desiredReplicas":2,"liveReplicas":2,
       "nodes":["node-a","node-b"],"depositedAt":"2025-01-01T00:00:00Z"}""";

  @TempDir
  Path tmp;

  Path config;
  Map<String, String> env;

  @BeforeEach
  void setUp() throws IOException {
    config = Files.createDirectories(tmp.resolve("config"));
    env = new HashMap<>(Map.of("DEPOT_CONFIG_DIR", config.toString()));
  }

  private CliRunner.Result depot(String... args) {
    return CliRunner.run(env, args);
  }

  /** A failure is exactly one line on stderr, prefixed with "depot: ". */
  private static void assertOneLineError(CliRunner.Result result, String expectedMessage) {
    assertNotEquals(0, result.code());
    assertEquals("depot: " + expectedMessage + System.lineSeparator(), result.err());
    assertEquals("", result.out());
  }

  @Test
  void loginRegistersAndStoresPrivateCredentials() throws Exception {
    try (TestServer server = new TestServer((ex, req) ->
        TestServer.json(ex, 201, "{\"clientId\":\"c-42\",\"token\":\"tok-42\"}"))) {
      CliRunner.Result result = depot("login", "--nickname", "alice", "--server", server.url());

      assertEquals(0, result.code(), result.err());
      assertEquals("Logged in as alice (client id c-42)\n", result.out());
      TestServer.Request request = server.requests.get(0);
      assertEquals("POST", request.method());
      assertEquals("/api/v1/clients", request.rawPath());
      assertEquals("alice", new JsonObject(request.bodyText()).getString("nickname"));

      Path file = config.resolve("credentials.json");
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
      JsonObject stored = new JsonObject(Files.readString(file));
      assertEquals(server.url(), stored.getString("server"));
      assertEquals("c-42", stored.getString("clientId"));
      assertEquals("tok-42", stored.getString("token"));
      assertEquals("alice", stored.getString("nickname"));
    }
  }

  /** A registration whose answer did not come is sent again with the same key: one client, not two. */
  @Test
  void aLoginIsSentAgainWithTheSameKeyWhileTheServerIsUnavailable() throws Exception {
    java.util.concurrent.atomic.AtomicInteger posts = new java.util.concurrent.atomic.AtomicInteger();
    try (TestServer server = new TestServer((ex, req) -> {
      if (posts.incrementAndGet() == 1) {
        TestServer.json(ex, 503, UNAVAILABLE);
      } else {
        TestServer.json(ex, 201, "{\"clientId\":\"c-43\",\"token\":\"tok-43\"}");
      }
    })) {
      env.put("DEPOT_RETRY_SECONDS", "2");
      CliRunner.Result result = depot("login", "--nickname", "bob", "--server", server.url());

      assertEquals(0, result.code(), result.err());
      assertEquals("Logged in as bob (client id c-43)\n", result.out());
      assertEquals("depot: login: server unavailable (HTTP 503); trying again in 250 ms\n", result.err());
      assertEquals(2, server.requests.size());
      String key = server.requests.get(0).header("Idempotency-Key");
      assertTrue(key != null && key.length() >= 16, "a key the server accepts: " + key);
      assertEquals(key, server.requests.get(1).header("Idempotency-Key"), "the same key on the second try");
    }
  }

  @Test
  void reconnectChecksTheTokenFirst() throws Exception {
    try (TestServer server = new TestServer((ex, req) -> {
      boolean good = "Bearer good".equals(req.header("Authorization"));
      TestServer.json(ex, good ? 200 : 401, good ? "{\"files\":[]}" : "{\"error\":\"unauthorized\",\"message\":\"bad token\"}");
    })) {
      CliRunner.Result bad = depot("login", "--client-id", "c-1", "--token", "bad", "--server", server.url());
      assertOneLineError(bad, "invalid client id or token");
      assertFalse(Files.exists(config.resolve("credentials.json")));

      CliRunner.Result good = depot("login", "--client-id", "c-1", "--token", "good", "--server", server.url());
      assertEquals(0, good.code(), good.err());
      assertEquals("Logged in as client c-1\n", good.out(), "no nickname known on this machine");
      assertEquals("GET", server.requests.get(1).method());
      assertEquals("/api/v1/files", server.requests.get(1).rawPath());
      assertEquals("c-1", new JsonObject(Files.readString(config.resolve("credentials.json"))).getString("clientId"));
    }
  }

  @Test
  void depositSendsTheFileWithItsHashAndStoredToken() throws Exception {
    byte[] content = new byte[200_000];
    new Random(7).nextBytes(content);
    Path file = Files.write(tmp.resolve("my file é.bin"), content);
    String sha = Sha256.of(content);
    try (TestServer server = new TestServer((ex, req) ->
        TestServer.json(ex, 201, RECORD.formatted("my file é.bin", content.length, sha)))) {
      new CredentialsStore(config).save(new Credentials(server.url(), "c-1", "tok-1", "alice"));

      CliRunner.Result result = depot("deposit", file.toString(), "--replicas", "2", "--server", server.url());

      assertEquals(0, result.code(), result.err());
      assertEquals("Deposited my file é.bin: 200000 bytes, sha256 " + sha.substring(0, 12)
          + ", version 1, replicas 2/2 on node-a,node-b\n", result.out());
      TestServer.Request request = server.requests.get(0);
      assertEquals("PUT", request.method());
      assertEquals("/api/v1/files/my%20file%20%C3%A9.bin", request.rawPath());
      assertEquals("replicas=2", request.rawQuery());
      assertEquals("Bearer tok-1", request.header("Authorization"));
      assertEquals(sha, request.header("X-Depot-Sha256"));
      assertEquals("application/octet-stream", request.header("Content-Type"));
      assertEquals(String.valueOf(content.length), request.header("Content-Length"));
      assertTrue("100-continue".equalsIgnoreCase(request.header("Expect")), request.header("Expect"));
      assertArrayEquals(content, request.body());
      assertEquals("", result.err(), "every copy made: nothing to warn of");
    }
  }

  @Test
  void aDepositWithFewerCopiesThanAskedForSaysSo() throws Exception {
    Path file = Files.writeString(tmp.resolve("few.txt"), "few");
    String sha = Sha256.of("few".getBytes(StandardCharsets.UTF_8));
    try (TestServer server = new TestServer((ex, req) -> TestServer.json(ex, 201,
        RECORD.formatted("few.txt", 3, sha).replace("\"desiredReplicas\":2,\"liveReplicas\":2", "\"desiredReplicas\":3,\"liveReplicas\":1")))) {
      env.put("DEPOT_TOKEN", "t");

      CliRunner.Result result = depot("deposit", file.toString(), "--replicas", "3", "--server", server.url());

      assertEquals(0, result.code(), result.err());
      assertTrue(result.out().contains(", replicas 1/3 on "), result.out());
      assertEquals("depot: warning: only 1 of the 3 replicas of few.txt exist now; the cluster makes the other 2 as soon"
          + " as storage nodes can take them\n", result.err());
    }
  }

  @Test
  void depositWithoutReplicasLetsTheServerChooseAndHonoursName() throws Exception {
    Path file = Files.writeString(tmp.resolve("local.txt"), "hello");
    try (TestServer server = new TestServer((ex, req) ->
        TestServer.send(ex, 201, Map.of("X-Depot-Dedup", "true", "Content-Type", "application/json"),
            RECORD.formatted("remote name", 5, Sha256.of("hello".getBytes())).getBytes(StandardCharsets.UTF_8)))) {
      env.put("DEPOT_TOKEN", "env-token");
      env.put("DEPOT_SERVER", server.url());

      CliRunner.Result result = depot("deposit", file.toString(), "--name", "remote name");

      assertEquals(0, result.code(), result.err());
      assertTrue(result.out().endsWith(" (already stored, nothing uploaded)\n"), result.out());
      TestServer.Request request = server.requests.get(0);
      assertEquals("/api/v1/files/remote%20name", request.rawPath());
      assertEquals(null, request.rawQuery());
      assertEquals("Bearer env-token", request.header("Authorization"));
    }
  }

  @Test
  void retrieveVerifiesAndMovesIntoPlace() throws Exception {
    byte[] content = "the content".getBytes(StandardCharsets.UTF_8);
    try (TestServer server = new TestServer((ex, req) ->
        TestServer.send(ex, 200, Map.of("ETag", "\"" + Sha256.of(content) + "\""), content))) {
      env.put("DEPOT_TOKEN", "t");
      Path out = tmp.resolve("out");
      Files.createDirectories(out);

      CliRunner.Result result = depot("retrieve", "a b.txt", "-o", out.toString(), "--server", server.url());

      assertEquals(0, result.code(), result.err());
      assertEquals("/api/v1/files/a%20b.txt", server.requests.get(0).rawPath());
      assertArrayEquals(content, Files.readAllBytes(out.resolve("a b.txt")));
      assertEquals("Retrieved a b.txt (11 bytes) to " + out.resolve("a b.txt") + "\n", result.out());
      try (Stream<Path> files = Files.list(out)) {
        assertEquals(List.of(out.resolve("a b.txt")), files.toList(), "no temporary file left");
      }
    }
  }

  @Test
  void retrieveToStdoutWritesRawBytes() throws Exception {
    byte[] content = {0, 1, 2, (byte) 0xff, '\n'};
    try (TestServer server = new TestServer((ex, req) ->
        TestServer.send(ex, 200, Map.of("X-Depot-Sha256", Sha256.of(content)), content))) {
      env.put("DEPOT_TOKEN", "t");
      CliRunner.Result result = depot("retrieve", "bin", "-o", "-", "--server", server.url());
      assertEquals(0, result.code(), result.err());
      assertArrayEquals(content, result.rawOut());
    }
  }

  @Test
  void retrieveIntoAPipeWritesThroughItAndLeavesItAPipe() throws Exception {
    // The same path as -o /dev/null: renaming a temporary file over it would replace the device with a file.
    byte[] content = "through the pipe".getBytes(StandardCharsets.UTF_8);
    Path fifo = tmp.resolve("pipe");
    assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
    try (TestServer server = new TestServer((ex, req) ->
        TestServer.send(ex, 200, Map.of("X-Depot-Sha256", Sha256.of(content)), content))) {
      env.put("DEPOT_TOKEN", "t");
      CompletableFuture<byte[]> drained = CompletableFuture.supplyAsync(() -> {
        try {
          return Files.readAllBytes(fifo);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });

      CliRunner.Result result = depot("retrieve", "p", "-o", fifo.toString(), "--server", server.url());

      assertEquals(0, result.code(), result.err());
      assertArrayEquals(content, drained.get(10, TimeUnit.SECONDS));
      assertTrue(Files.readAttributes(fifo, BasicFileAttributes.class).isOther(), "still a pipe");
      try (Stream<Path> files = Files.list(tmp)) {
        assertEquals(List.of(), files.filter(f -> f.getFileName().toString().endsWith(".part")).toList());
      }
    }
  }

  @Test
  void retrieveRejectsCorruptContentAndLeavesNoFile() throws Exception {
    byte[] content = "what was sent".getBytes(StandardCharsets.UTF_8);
    String wrongSha = Sha256.of("what was deposited".getBytes(StandardCharsets.UTF_8));
    try (TestServer server = new TestServer((ex, req) ->
        TestServer.send(ex, 200, Map.of("X-Depot-Sha256", wrongSha), content))) {
      env.put("DEPOT_TOKEN", "t");
      Path out = Files.createDirectories(tmp.resolve("out"));
      Path target = out.resolve("f.txt");

      CliRunner.Result result = depot("retrieve", "f.txt", "-o", target.toString(), "--server", server.url());

      assertOneLineError(result, "checksum mismatch for f.txt: server announced sha256 " + wrongSha
          + ", received " + Sha256.of(content) + " (13 bytes); nothing written");
      try (Stream<Path> files = Files.list(out)) {
        assertEquals(List.of(), files.toList(), "neither the target nor a temporary file");
      }
    }
  }

  @Test
  void retrieveKeepsAnExistingFileWhenTheDownloadFails() throws Exception {
    try (TestServer server = new TestServer((ex, req) ->
        TestServer.json(ex, 404, "{\"error\":\"not_found\",\"message\":\"no file named f.txt\"}"))) {
      env.put("DEPOT_TOKEN", "t");
      Path target = Files.writeString(tmp.resolve("f.txt"), "old");
      CliRunner.Result result = depot("retrieve", "f.txt", "-o", target.toString(), "--server", server.url());
      assertOneLineError(result, "no file named f.txt");
      assertEquals("old", Files.readString(target));
    }
  }

  @Test
  void serverErrorJsonBecomesOneLineOnStderr() throws Exception {
    try (TestServer server = new TestServer((ex, req) -> TestServer.json(ex, 400,
        "{\"error\":\"invalid_replicas\",\"message\":\"replicas must be at most 3\\n(cluster has 3 storage nodes)\"}"))) {
      env.put("DEPOT_TOKEN", "t");
      CliRunner.Result result = depot("replicas", "f", "9", "--server", server.url());
      assertOneLineError(result, "replicas must be at most 3 (cluster has 3 storage nodes)");
      assertEquals(1, result.code());
    }
  }

  static final String UNAVAILABLE = "{\"error\":\"unavailable\",\"message\":\"no coordinator leads right now\"}";

  @Test
  void aDepositIsSentAgainWhileTheServerIsUnavailable() throws Exception {
    byte[] content = new byte[100_000];
    new Random(8).nextBytes(content);
    Path file = Files.write(tmp.resolve("again.bin"), content);
    String sha = Sha256.of(content);
    java.util.concurrent.atomic.AtomicInteger puts = new java.util.concurrent.atomic.AtomicInteger();
    try (TestServer server = new TestServer((ex, req) -> {
      if (puts.incrementAndGet() <= 2) {
        TestServer.json(ex, 503, UNAVAILABLE);
      } else {
        TestServer.json(ex, 201, RECORD.formatted("again.bin", content.length, sha));
      }
    })) {
      env.put("DEPOT_TOKEN", "t");
      env.put("DEPOT_RETRY_SECONDS", "2");

      CliRunner.Result result = depot("deposit", file.toString(), "--server", server.url());

      assertEquals(0, result.code(), result.err());
      assertEquals(List.of("depot: deposit of again.bin: server unavailable (HTTP 503); trying again in 250 ms",
          "depot: deposit of again.bin: server unavailable (HTTP 503); trying again in 500 ms"), result.err().lines().toList());
      assertTrue(result.out().startsWith("Deposited again.bin: 100000 bytes"), result.out());
      assertEquals(3, server.requests.size());
      assertArrayEquals(content, server.requests.get(2).body());
    }
  }

  @Test
  void anUnavailableServerIsAskedUntilTheRetryTimeIsSpentThenItsErrorStands() throws Exception {
    Path file = Files.writeString(tmp.resolve("never.txt"), "never");
    try (TestServer server = new TestServer((ex, req) -> TestServer.json(ex, 503, UNAVAILABLE))) {
      env.put("DEPOT_TOKEN", "t");
      env.put("DEPOT_RETRY_SECONDS", "1"); // waits of 250 and 500 ms fit, the next 1 s does not

      CliRunner.Result result = depot("deposit", file.toString(), "--server", server.url());

      assertEquals(3, server.requests.size());
      assertEquals(1, result.code());
      List<String> err = result.err().lines().toList();
      assertEquals(3, err.size(), result.err());
      assertEquals("depot: no coordinator leads right now", err.get(2));

      env.put("DEPOT_RETRY_SECONDS", "0");
      server.requests.clear();
      assertOneLineError(depot("list", "--server", server.url()), "no coordinator leads right now");
      assertEquals(1, server.requests.size(), "0 seconds: asked once");
    }
  }

  @Test
  void otherErrorsAreNotSentAgain() throws Exception {
    Path file = Files.writeString(tmp.resolve("big.txt"), "big");
    try (TestServer server = new TestServer((ex, req) -> TestServer.json(ex, 507,
        "{\"error\":\"insufficient_storage\",\"message\":\"no room for 3 replicas\"}"))) {
      env.put("DEPOT_TOKEN", "t");
      assertOneLineError(depot("deposit", file.toString(), "--server", server.url()), "no room for 3 replicas");
      assertEquals(1, server.requests.size());
    }
  }

  @Test
  void aListingIsAskedAgainAfterAnUnavailableAnswer() throws Exception {
    java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
    try (TestServer server = new TestServer((ex, req) -> {
      if (asked.incrementAndGet() == 1) {
        TestServer.json(ex, 502, "<html>bad gateway</html>");
      } else {
        TestServer.json(ex, 200, "{\"files\":[]}");
      }
    })) {
      env.put("DEPOT_TOKEN", "t");
      CliRunner.Result result = depot("list", "--server", server.url());
      assertEquals(0, result.code(), result.err());
      assertEquals("No files deposited.\n", result.out());
      assertEquals(2, server.requests.size());
    }
  }

  @Test
  void anExchangeCutOffWithoutAnAnswerIsSentAgain() throws Exception {
    java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
    try (TestServer server = new TestServer((ex, req) -> {
      // No answer at all, twice: the JDK's client sends a GET once more by itself before it gives up.
      if (asked.incrementAndGet() <= 2) {
        throw new IOException("cut off on purpose");
      }
      TestServer.json(ex, 200, "{\"files\":[]}");
    })) {
      env.put("DEPOT_TOKEN", "t");
      CliRunner.Result result = depot("list", "--server", server.url());
      assertEquals(0, result.code(), result.err());
      assertEquals(3, server.requests.size());
      assertEquals(1, result.err().lines().count(), result.err());
      assertTrue(result.err().startsWith("depot: list: request to " + server.url() + " failed"), result.err());
    }
  }

  @Test
  void aRetrieveIsAskedAgainWhileTheServerIsUnavailable() throws Exception {
    byte[] content = "after the failover".getBytes(StandardCharsets.UTF_8);
    java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
    try (TestServer server = new TestServer((ex, req) -> {
      if (asked.incrementAndGet() == 1) {
        TestServer.json(ex, 503, UNAVAILABLE);
      } else {
        TestServer.send(ex, 200, Map.of("ETag", "\"" + Sha256.of(content) + "\""), content);
      }
    })) {
      env.put("DEPOT_TOKEN", "t");
      Path out = tmp.resolve("after.txt");

      CliRunner.Result result = depot("retrieve", "after.txt", "-o", out.toString(), "--server", server.url());

      assertEquals(0, result.code(), result.err());
      assertEquals("depot: retrieve of after.txt: server unavailable (HTTP 503); trying again in 250 ms\n", result.err());
      assertArrayEquals(content, Files.readAllBytes(out));
      assertEquals(2, server.requests.size());
    }
  }

  @Test
  void aBadRetryTimeIsAUsageError() {
    env.put("DEPOT_TOKEN", "t");
    env.put("DEPOT_RETRY_SECONDS", "soon");
    CliRunner.Result result = depot("list", "--server", "http://127.0.0.1:9");
    assertEquals(2, result.code());
    assertEquals("depot: DEPOT_RETRY_SECONDS must be a number of seconds, 0 or more; got 'soon'\n", result.err());
  }

  @Test
  void unreachableServerIsNamed() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort(); // closed again: nobody listens there
    }
    env.put("DEPOT_TOKEN", "t");
    CliRunner.Result result = depot("list", "--server", "http://127.0.0.1:" + port);
    assertOneLineError(result, "cannot reach server http://127.0.0.1:" + port + ": connection refused");
  }

  @Test
  void commandsNeedALogin() {
    assertOneLineError(depot("list"), "not logged in: run `depot login --nickname NAME` first");
  }

  @Test
  void usageErrorsAreOneLineToo() {
    CliRunner.Result result = depot("replicas", "f", "many");
    assertEquals(2, result.code());
    assertEquals(1, result.err().lines().count(), result.err());
    assertTrue(result.err().startsWith("depot: "), result.err());
  }

  @Test
  void listPrintsATable() throws Exception {
    String sha = Sha256.of(new byte[0]);
    try (TestServer server = new TestServer((ex, req) -> TestServer.json(ex, 200,
        "{\"files\":[" + RECORD.formatted("a.txt", 1536, sha) + "," + RECORD.formatted("b b", 0, sha) + "]}"))) {
      env.put("DEPOT_TOKEN", "t");
      CliRunner.Result table = depot("list", "--server", server.url());
      assertEquals(0, table.code(), table.err());
      List<String> lines = table.out().lines().toList();
      assertEquals(3, lines.size(), table.out());
      assertTrue(lines.get(0).matches("NAME\\s+SIZE\\s+REPLICAS\\s+VERSION\\s+DEPOSITED\\s+SHA256"), lines.get(0));
      assertTrue(lines.get(1).matches("a\\.txt\\s+1\\.5 KiB\\s+2/2\\s+1\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+e3b0c44298fc"),
          lines.get(1));

      CliRunner.Result json = depot("list", "--json", "--server", server.url());
      assertEquals(2, new JsonObject(json.out()).getJsonArray("files").size());
    }
  }

  @Test
  void deleteAndReplicas() throws Exception {
    try (TestServer server = new TestServer((ex, req) -> {
      if (req.method().equals("DELETE")) {
        TestServer.send(ex, 204, Map.of(), new byte[0]);
      } else {
        TestServer.json(ex, 200, "{\"name\":\"f\",\"desiredReplicas\":3,\"liveReplicas\":2}");
      }
    })) {
      env.put("DEPOT_TOKEN", "t");
      CliRunner.Result deleted = depot("delete", "f", "--server", server.url());
      assertEquals("Deleted f\n", deleted.out());
      assertEquals("DELETE", server.requests.get(0).method());
      assertEquals("/api/v1/files/f", server.requests.get(0).rawPath());

      CliRunner.Result replicas = depot("replicas", "f", "3", "--server", server.url());
      assertEquals("f: replicas 2/3\n", replicas.out());
      assertEquals("depot: warning: only 2 of the 3 replicas of f exist now; the cluster makes the other one as soon as"
          + " a storage node can take it\n", replicas.err(), "short of copies: said, though the change is made");
      assertEquals(0, replicas.code());
      TestServer.Request put = server.requests.get(1);
      assertEquals("PUT", put.method());
      assertEquals("/api/v1/files/f/replicas", put.rawPath());
      assertEquals(3, new JsonObject(put.bodyText()).getInteger("replicas"));
    }
  }

  @Test
  void nodesUsesTheAdminToken() throws Exception {
    String beat = java.time.Instant.now().minusSeconds(2).toString();
    try (TestServer server = new TestServer((ex, req) -> TestServer.json(ex, 200, """
        {"nodes":[{"id":"n1","roles":["storage","coordinator"],"host":"10.0.0.1:8080","rank":1,"status":"UP",
          "lastHeartbeat":"%s","diskUsed":1048576,"diskFree":2147483648,"replicas":12,"leader":true},
         {"id":"n2","roles":["storage"],"host":"10.0.0.2:8080","rank":2,"status":"DOWN",
          "lastHeartbeat":null,"diskUsed":0,"diskFree":0,"replicas":0,"leader":false},
         {"id":"n3","roles":["storage"],"host":"10.0.0.3:8080","rank":3,"status":"UP","heapFull":true,
          "lastHeartbeat":"%s","diskUsed":0,"diskFree":0,"replicas":0,"leader":false}]}""".formatted(beat, beat)))) {
      CliRunner.Result missing = depot("nodes", "--server", server.url());
      assertOneLineError(missing, "no admin token: pass --admin-token TOKEN or set DEPOT_ADMIN_TOKEN");

      env.put("DEPOT_ADMIN_TOKEN", "admin-secret");
      CliRunner.Result result = depot("nodes", "--server", server.url());
      assertEquals(0, result.code(), result.err());
      assertEquals("Bearer admin-secret", server.requests.get(0).header("Authorization"));
      List<String> lines = result.out().lines().toList();
      assertTrue(lines.get(0).matches("ID\\s+ROLES\\s+HOST\\s+RANK\\s+STATUS\\s+LAST BEAT\\s+DISK USED\\s+DISK FREE\\s+REPLICAS"));
      assertTrue(lines.get(1).matches("n1\\*\\s+storage,coordinator\\s+10\\.0\\.0\\.1:8080\\s+1\\s+UP\\s+\\d+\\.\\ds ago\\s+1\\.0 MiB\\s+2\\.0 GiB\\s+12"),
          lines.get(1));
      assertTrue(lines.get(2).matches("n2\\s+storage\\s+10\\.0\\.0\\.2:8080\\s+2\\s+DOWN\\s+never\\s+0 B\\s+0 B\\s+0"), lines.get(2));
      assertTrue(lines.get(3).matches("n3\\s+storage\\s+10\\.0\\.0\\.3:8080\\s+3\\s+UP,HEAP-FULL\\s+.*"), lines.get(3));
      assertEquals("* leader", lines.get(4));
      assertEquals("HEAP-FULL: takes no new replica, its heap is nearly full (heapLimitPercent)", lines.get(5));
    }
  }

  /**
   * A gateway that offers a local read of {@code content}, whose replica file here holds {@code onDisk}; the
   * node behind the links answers the layout ({@code layoutStatus}) and byte ranges of {@code content}.
   */
  private TestServer localReadCluster(byte[] content, Path replicaFile, int layoutStatus) throws IOException {
    String layout = LocalReplicaTest.describe(replicaFile, content).encode();
    TestServer[] self = new TestServer[1];
    self[0] = new TestServer((ex, req) -> {
      String blob = self[0].url() + "/direct/v1/blobs/b1";
      if (req.rawPath().startsWith("/api/v1/files/")) {
        TestServer.send(ex, 307, Map.of("Location", blob + "?exp=1&sig=s", "X-Depot-Local-Read", blob + "/local?exp=1&sig=s",
            "X-Depot-Sha256", Sha256.of(content)), new byte[0]);
      } else if (req.rawPath().endsWith("/local")) {
        TestServer.json(ex, layoutStatus, layoutStatus == 200 ? layout : "{\"error\":\"forbidden\",\"message\":\"off\"}");
      } else {
        String range = req.header("Range");
        int from = range == null ? 0 : Integer.parseInt(range.replaceAll("bytes=(\\d+)-", "$1"));
        TestServer.send(ex, range == null ? 200 : 206, Map.of(), java.util.Arrays.copyOfRange(content, from, content.length));
      }
    });
    return self[0];
  }

  @Test
  void retrieveReadsAReplicaFileOnThisHostAndTakesTheRestOverHttpFromItsFirstBadChunk() throws Exception {
    byte[] content = new byte[1_000_000];
    new Random(5).nextBytes(content);
    byte[] onDisk = content.clone();
    onDisk[3 * 64 * 1024 + 10] ^= 1;
    Path replica = Files.write(tmp.resolve("replica"), onDisk);
    try (TestServer server = localReadCluster(content, replica, 200)) {
      env.put("DEPOT_TOKEN", "t");
      Path out = tmp.resolve("out.bin");

      CliRunner.Result result = depot("retrieve", "f.bin", "-o", out.toString(), "--server", server.url());

      assertEquals(0, result.code(), result.err());
      assertArrayEquals(content, Files.readAllBytes(out));
      assertEquals("bytes=196608-", server.requests.get(2).header("Range"), "the node is asked from the bad chunk on");
      assertEquals("Retrieved f.bin (1000000 bytes, 196608 of them read from a replica's file on this host) to "
          + out + "\n", result.out());

      // Sound on disk: all of it read here, and the node asked for no bytes.
      Files.write(replica, content);
      assertEquals(0, depot("retrieve", "f.bin", "-o", out.toString(), "--server", server.url()).code());
      assertArrayEquals(content, Files.readAllBytes(out));
      assertEquals(5, server.requests.size(), "redirect and layout only: " + server.requests);
    }
  }

  @Test
  void retrieveGoesOverHttpWhenTheNodeOffersNoLocalRead() throws Exception {
    byte[] content = new byte[300_000];
    new Random(6).nextBytes(content);
    try (TestServer server = localReadCluster(content, tmp.resolve("absent"), 403)) {
      env.put("DEPOT_TOKEN", "t");
      Path out = tmp.resolve("out.bin");

      CliRunner.Result result = depot("retrieve", "f.bin", "-o", out.toString(), "--server", server.url());

      assertEquals(0, result.code(), result.err());
      assertArrayEquals(content, Files.readAllBytes(out));
      assertEquals(null, server.requests.get(2).header("Range"));
      assertEquals("Retrieved f.bin (300000 bytes) to " + out + "\n", result.out());
    }
  }
}
