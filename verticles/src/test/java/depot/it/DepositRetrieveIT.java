package depot.it;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Deposit with three replicas over the real HTTP path, the replica files on three disks, retrieve, delete. */
class DepositRetrieveIT extends ClusterTestBase {

  static byte[] random(int size, long seed) {
    byte[] data = new byte[size];
    new Random(seed).nextBytes(data);
    return data;
  }

  static long replicaFilesOn(Path dataDir, String sha256) throws Exception {
    Path blobs = dataDir.resolve("blobs");
    if (!Files.exists(blobs)) {
      return 0;
    }
    for (int attempt = 1; ; attempt++) {
      try (Stream<Path> walk = Files.walk(blobs)) {
        return walk.filter(p -> p.toString().endsWith(".meta")).filter(p -> {
          try {
            return new JsonObject(Files.readString(p)).getString("sha256").equals(sha256);
          } catch (Exception e) {
            return false;
          }
        }).count();
      } catch (java.io.UncheckedIOException e) {
        // A replica deleted while the walk passed it (tests poll while deletions run): walk again.
        if (!(e.getCause() instanceof java.nio.file.NoSuchFileException) || attempt == 5) {
          throw e;
        }
      }
    }
  }

  @Test
  void depositThreeReplicasRetrieveDelete() throws Exception {
    String token = api.register("alice").getString("token");
    byte[] data = random(3 * 1024 * 1024 + 17, 1);
    String sha = Api.sha256(data);

    HttpResponse<String> put = api.deposit(token, "report.pdf", data, 3, sha);
    assertEquals(201, put.statusCode(), put.body());
    JsonObject record = new JsonObject(put.body());
    assertEquals(sha, record.getString("sha256"));
    assertEquals(data.length, record.getLong("size"));
    assertEquals(3, record.getInteger("replicas"));
    assertEquals(3, record.getInteger("liveReplicas"));
    assertEquals(1, record.getLong("version"));

    for (String node : cluster.storageNodeIds()) {
      assertEquals(1, replicaFilesOn(cluster.dataDir(node), sha), "replica on " + node);
    }

    HttpResponse<byte[]> got = api.retrieve(token, "report.pdf");
    assertEquals(200, got.statusCode());
    assertArrayEquals(data, got.body());
    assertEquals("\"" + sha + "\"", got.headers().firstValue("ETag").orElse(null));

    JsonArray files = new JsonObject(api.get(token, "/api/v1/files").body()).getJsonArray("files");
    assertEquals(1, files.size());
    assertEquals("report.pdf", files.getJsonObject(0).getString("name"));

    assertEquals(204, api.delete(token, "report.pdf").statusCode());
    assertEquals(404, api.retrieve(token, "report.pdf").statusCode());
    long deadline = System.currentTimeMillis() + 10_000;
    long left = 3;
    while (left > 0 && System.currentTimeMillis() < deadline) {
      Thread.sleep(200);
      left = 0;
      for (String node : cluster.storageNodeIds()) {
        left += replicaFilesOn(cluster.dataDir(node), sha);
      }
    }
    assertEquals(0, left, "replicas are garbage-collected after deletion");
  }

  /** Open files of this JVM (which runs the whole cluster) under the storage nodes' replica folders. */
  private long openReplicaFiles() throws Exception {
    long open = 0;
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      for (Path fd : fds.toList()) {
        String target;
        try {
          target = Files.readSymbolicLink(fd).toString();
        } catch (java.io.IOException gone) {
          continue;
        }
        for (String node : cluster.storageNodeIds()) {
          if (target.startsWith(cluster.dataDir(node).resolve("blobs").toString())) {
            open++;
          }
        }
      }
    }
    return open;
  }

  @Test
  void aReaderThatGoesAwayMidTransferLeavesNoReplicaOpen() throws Exception {
    String token = api.register("quitter").getString("token");
    byte[] data = random(24 * 1024 * 1024, 3);
    assertEquals(201, api.deposit(token, "big.bin", data, 1, null).statusCode());
    HttpResponse<String> redirect = api.send(api.req("/api/v1/files/big.bin?direct=1", token).GET().build());
    assertEquals(307, redirect.statusCode());

    for (int reader = 0; reader < 3; reader++) {
      java.net.HttpURLConnection conn = (java.net.HttpURLConnection)
          java.net.URI.create(redirect.headers().firstValue("Location").orElseThrow()).toURL().openConnection();
      byte[] first = conn.getInputStream().readNBytes(1024 * 1024);
      assertArrayEquals(java.util.Arrays.copyOf(data, first.length), first);
      conn.disconnect(); // gone, with 23 MiB unsent
    }
    long deadline = System.currentTimeMillis() + 10_000;
    while (openReplicaFiles() > 0 && System.currentTimeMillis() < deadline) {
      Thread.sleep(100);
    }
    assertEquals(0, openReplicaFiles(), "every abandoned send closed its replica");
    assertArrayEquals(data, api.retrieve(token, "big.bin").body());
  }

  @Test
  void withLocalReadsOffNoNodeTellsWhereItsReplicasLie() throws Exception {
    String token = api.register("remote").getString("token");
    assertEquals(201, api.deposit(token, "far.bin", random(2 * 1024 * 1024, 8), 2, null).statusCode());
    HttpResponse<String> redirect = api.send(api.req("/api/v1/files/far.bin?direct=1", token).GET().build());
    assertEquals(307, redirect.statusCode());
    assertTrue(redirect.headers().firstValue("X-Depot-Local-Read").isEmpty(), "no local-read link offered");

    // The same signed link asked for the replica's place anyway: refused, with no path in the answer.
    String location = redirect.headers().firstValue("Location").orElseThrow();
    HttpResponse<String> asked = api.send(HttpRequest.newBuilder(URI.create(location.replace("?", "/local?"))).GET().build());
    assertEquals(403, asked.statusCode());
    assertTrue(asked.body().contains("does not offer local reads"), asked.body());
  }

  @Test
  void rangeRequests() throws Exception {
    String token = api.register("ranger").getString("token");
    byte[] data = random(200_000, 2);
    assertEquals(201, api.deposit(token, "r.bin", data, 2, null).statusCode());
    HttpResponse<byte[]> part = api.http.send(api.req("/api/v1/files/r.bin", token).header("Range", "bytes=70000-140000")
        .GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(206, part.statusCode());
    assertArrayEquals(java.util.Arrays.copyOfRange(data, 70000, 140001), part.body());
    assertTrue(part.headers().firstValue("Content-Range").orElse("").startsWith("bytes 70000-140000/200000"));
  }

  /**
   * A download resumed after the file was replaced must not glue new bytes to old ones: with {@code If-Range} of the
   * old tag the whole new file comes back (200); with the current tag, the range (206).
   */
  @Test
  void ifRangeOfAReplacedFileSendsTheWholeNewFile() throws Exception {
    String token = api.register("resumer").getString("token");
    byte[] old = random(100_000, 3);
    byte[] replacement = random(120_000, 4);
    assertEquals(201, api.deposit(token, "resume.bin", old, 2, null).statusCode());
    String oldTag = "\"" + Api.sha256(old) + "\"";
    assertEquals(201, api.deposit(token, "resume.bin", replacement, 2, null).statusCode());
    String newTag = "\"" + Api.sha256(replacement) + "\"";

    HttpResponse<byte[]> stale = api.http.send(api.req("/api/v1/files/resume.bin", token)
        .header("Range", "bytes=50000-").header("If-Range", oldTag).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(200, stale.statusCode());
    assertArrayEquals(replacement, stale.body());

    HttpResponse<byte[]> current = api.http.send(api.req("/api/v1/files/resume.bin", token)
        .header("Range", "bytes=50000-").header("If-Range", newTag).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(206, current.statusCode());
    assertArrayEquals(java.util.Arrays.copyOfRange(replacement, 50000, 120000), current.body());

    HttpResponse<byte[]> cached = api.http.send(api.req("/api/v1/files/resume.bin", token)
        .header("If-None-Match", oldTag + ", W/" + newTag).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(304, cached.statusCode());
    HttpResponse<byte[]> otherUnit = api.http.send(api.req("/api/v1/files/resume.bin", token)
        .header("Range", "items=0-1").GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(200, otherUnit.statusCode());
    assertArrayEquals(replacement, otherUnit.body());
  }
}
