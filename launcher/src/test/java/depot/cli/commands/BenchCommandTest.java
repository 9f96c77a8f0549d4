package depot.cli.commands;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import depot.cli.CliRunner;
import depot.cli.Sha256;
import depot.cli.TestServer;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The bench against an in-memory imitation of the Depot API. */
class BenchCommandTest {
  private static final Pattern PHASE = Pattern.compile(
      "(deposit|retrieve): files=(\\d+) bytes=(\\d+) elapsed=\\d+\\.\\d\\ds throughput=\\d+\\.\\dMB/s \\(\\d+\\.\\dMiB/s\\)"
          + " rate=\\d+\\.\\dfiles/s p50=\\d+\\.\\dms p90=\\d+\\.\\dms p99=\\d+\\.\\dms max=\\d+\\.\\dms errors=(\\d+)");

  /** Files by "token path"; answers like the real API would, computing the hash when none was sent. */
  private static final class FakeDepot {
    final Map<String, byte[]> files = new ConcurrentHashMap<>();
    final AtomicInteger clients = new AtomicInteger();
    volatile boolean failDeposits;

    TestServer start() throws IOException {
      return new TestServer((ex, req) -> {
        String key = req.header("Authorization") + " " + req.rawPath();
        switch (req.method()) {
          case "POST" -> {
            int id = clients.incrementAndGet();
            TestServer.json(ex, 201, "{\"clientId\":\"c" + id + "\",\"token\":\"t" + id + "\"}");
          }
          case "PUT" -> {
            if (failDeposits) {
              TestServer.json(ex, 507, "{\"error\":\"insufficient_storage\",\"message\":\"disks full\"}");
              return;
            }
            String announced = req.header("X-Depot-Sha256");
            if (announced != null && !announced.equals(Sha256.of(req.body()))) {
              TestServer.json(ex, 400, "{\"message\":\"hash mismatch\"}");
              return;
            }
            files.put(key, req.body());
            TestServer.json(ex, 201, "{\"size\":" + req.body().length + "}");
          }
          case "GET" -> {
            byte[] body = files.get(key);
            if (body == null) {
              TestServer.json(ex, 404, "{\"message\":\"no such file\"}");
            } else {
              TestServer.send(ex, 200, Map.of("X-Depot-Sha256", Sha256.of(body)), body);
            }
          }
          case "DELETE" -> {
            files.remove(key);
            TestServer.send(ex, 204, Map.of(), new byte[0]);
          }
          default -> TestServer.json(ex, 405, "{\"message\":\"no\"}");
        }
      });
    }
  }

  @Test
  void depositsRetrievesAndCleansUp() throws Exception {
    FakeDepot depot = new FakeDepot();
    try (TestServer server = depot.start()) {
      CliRunner.Result result = CliRunner.run(Map.of(), "bench", "--server", server.url(), "--clients", "3",
          "--files", "10", "--size", "4KiB", "--replicas", "2", "--retrieve", "--warmup", "2", "--cleanup");

      assertEquals(0, result.code(), result.err());
      assertEquals("", result.err());
      List<String> lines = result.out().lines().toList();
      assertEquals(4, lines.size(), result.out());
      assertTrue(lines.get(0).startsWith("bench: server=" + server.url() + " clients=3 files=10 size=4096 replicas=2"));
      for (String line : lines.subList(1, 3)) {
        var m = PHASE.matcher(line);
        assertTrue(m.matches(), line);
        assertEquals("10", m.group(2));
        assertEquals("40960", m.group(3));
        assertEquals("0", m.group(4));
      }

      assertEquals("read locally: 0 of the bytes retrieved came straight from replica files on this host (sha256 checked)",
          lines.get(3), "this server offers no local reads");

      assertEquals(3, depot.clients.get(), "one fresh client per bench client");
      List<TestServer.Request> puts = server.requests.stream().filter(r -> r.method().equals("PUT")).toList();
      assertEquals(12, puts.size(), "10 measured + 2 warmup deposits");
      Set<String> hashes = new HashSet<>();
      for (TestServer.Request put : puts) {
        assertEquals("replicas=2", put.rawQuery());
        assertEquals("4096", put.header("Content-Length"));
        assertNull(put.header("Expect"), "unique contents: nothing to gain from 100-continue");
        hashes.add(put.header("X-Depot-Sha256"));
      }
      assertEquals(12, hashes.size(), "distinct contents, so dedup never kicks in");
      assertTrue(puts.stream().anyMatch(p -> p.rawPath().equals("/api/v1/files/bench-0-3")));
      assertTrue(puts.stream().noneMatch(p -> p.rawPath().equals("/api/v1/files/bench-0-4")), "client 0 has 4 files");
      assertEquals(12, server.requests.stream().filter(r -> r.method().equals("GET")).count(),
          "10 measured + 2 warm-up retrieves");
      assertEquals(12, server.requests.stream().filter(r -> r.method().equals("DELETE")).count());
      assertTrue(depot.files.isEmpty(), "cleanup deleted everything");
      Set<String> nicknames = new HashSet<>();
      server.requests.stream().filter(r -> r.method().equals("POST"))
          .forEach(r -> nicknames.add(new JsonObject(r.bodyText()).getString("nickname")));
      assertEquals(3, nicknames.size());
      assertTrue(nicknames.stream().allMatch(n -> n.matches("bench-[0-9a-f]+-[0-2]")), nicknames.toString());
    }
  }

  @Test
  void retrievesCheckedByChunksCountTheBytesAndAnUnknownCheckIsRefused() throws Exception {
    FakeDepot depot = new FakeDepot();
    try (TestServer server = depot.start()) {
      CliRunner.Result result = CliRunner.run(Map.of(), "bench", "--server", server.url(), "--clients", "2",
          "--files", "4", "--size", "4KiB", "--retrieve", "--check", "chunks");

      assertEquals(0, result.code(), result.err());
      List<String> lines = result.out().lines().toList();
      var m = PHASE.matcher(lines.get(2));
      assertTrue(m.matches() && lines.get(2).startsWith("retrieve:"), lines.get(2));
      assertEquals("16384", m.group(3));
      assertEquals("0", m.group(4));
      assertTrue(lines.get(3).endsWith("(chunks checked)"), lines.get(3));

      CliRunner.Result refused = CliRunner.run(Map.of(), "bench", "--server", server.url(), "--retrieve",
          "--check", "md5");
      assertNotEquals(0, refused.code());
      assertTrue(refused.err().contains("--check"), refused.err());
    }
  }

  @Test
  void largeFilesAreHashedAheadAndStreamedWithTheirHash() throws Exception {
    FakeDepot depot = new FakeDepot();
    try (TestServer server = depot.start()) {
      CliRunner.Result result = CliRunner.run(Map.of(), "bench", "--server", server.url(), "--clients", "2",
          "--files", "2", "--size", "9MiB", "--retrieve", "--json");

      assertEquals(0, result.code(), result.err());
      JsonObject json = new JsonObject(result.out());
      assertEquals(2, json.getJsonObject("deposit").getLong("files"));
      assertEquals(2L * 9 * 1024 * 1024, json.getJsonObject("retrieve").getLong("bytes"));
      assertEquals(0, json.getJsonObject("retrieve").getLong("errors"));
      assertNull(json.getValue("replicas"));
      List<TestServer.Request> puts = server.requests.stream().filter(r -> r.method().equals("PUT")).toList();
      assertEquals(2, puts.size());
      for (TestServer.Request put : puts) {
        // Hashed before the clock started, as `depot deposit` does; the body streamed after the server agreed.
        assertEquals(Sha256.of(put.body()), put.header("X-Depot-Sha256"));
        assertEquals("100-continue", put.header("Expect"));
        assertEquals("direct=1", put.rawQuery(), "large deposits offer to go straight to a storage node");
        assertEquals(String.valueOf(9 * 1024 * 1024), put.header("Content-Length"));
        assertEquals(9 * 1024 * 1024, put.body().length);
      }
    }
  }

  @Test
  void failuresAreCountedAndMakeTheExitCodeNonZero() throws Exception {
    FakeDepot depot = new FakeDepot();
    depot.failDeposits = true;
    try (TestServer server = depot.start()) {
      CliRunner.Result result = CliRunner.run(Map.of(), "bench", "--server", server.url(), "--clients", "2",
          "--files", "5", "--size", "1K");

      assertEquals(1, result.code());
      assertTrue(result.out().lines().anyMatch(l -> l.startsWith("deposit: files=0 bytes=0 ") && l.endsWith(" errors=5")),
          result.out());
      assertEquals("depot: bench: 5 request(s) failed; first error: disks full\n",
          new String(result.err().getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8));
    }
  }
}
