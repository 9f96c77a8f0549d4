package depot.it;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.zip.CRC32C;

import static depot.it.DepositRetrieveIT.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A cluster with {@code localReads} on: a direct-read redirect also names a signed link to where the replica
 * lies on its node's disk, which answers the file's path and chunk checksums, and nothing to a forged link.
 */
class LocalReadIT {
  private static TestCluster cluster;
  private static Api api;

  @BeforeAll
  static void start() throws Exception {
    cluster = TestCluster.start(2, new JsonObject().put("localReads", true));
    api = new Api(cluster.baseUrl());
  }

  @AfterAll
  static void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** The local-read link of a {@code ?direct=1} redirect. */
  private static String localLink(String token, String name) throws Exception {
    HttpResponse<String> redirect = api.send(api.req("/api/v1/files/" + name + "?direct=1", token).GET().build());
    assertEquals(307, redirect.statusCode(), redirect.body());
    String link = redirect.headers().firstValue("X-Depot-Local-Read").orElseThrow();
    String location = redirect.headers().firstValue("Location").orElseThrow();
    assertEquals(location.replace("?", "/local?"), link, "the same replica, the same signature");
    return link;
  }

  private static HttpResponse<String> get(String url) throws Exception {
    return api.send(HttpRequest.newBuilder(URI.create(url)).GET().build());
  }

  @Test
  void theLinkNamesTheReplicaFileAndTheChecksumsOfItsChunks() throws Exception {
    String token = api.register("local").getString("token");
    byte[] data = random(3 * 1024 * 1024 + 777, 41);
    assertEquals(201, api.deposit(token, "here.bin", data, 2, null).statusCode());

    HttpResponse<String> answer = get(localLink(token, "here.bin"));
    assertEquals(200, answer.statusCode(), answer.body());
    JsonObject layout = new JsonObject(answer.body());
    assertEquals(data.length, layout.getLong("size"));
    assertEquals(Api.sha256(data), layout.getString("sha256"));
    Path file = Path.of(layout.getString("path"));
    assertTrue(file.isAbsolute(), file.toString());
    assertTrue(file.startsWith(cluster.dataDir("storage-1").toAbsolutePath())
        || file.startsWith(cluster.dataDir("storage-2").toAbsolutePath()), file + " is a storage node's");
    assertArrayEquals(data, Arrays.copyOf(Files.readAllBytes(file), data.length));

    int chunk = layout.getInteger("chunkSize");
    ByteBuffer crcs = ByteBuffer.wrap(Base64.getDecoder().decode(layout.getString("crc32c")));
    assertEquals((data.length + chunk - 1) / chunk * 4, crcs.remaining());
    CRC32C crc = new CRC32C();
    for (int at = 0; at < data.length; at += chunk) {
      crc.reset();
      crc.update(data, at, Math.min(chunk, data.length - at));
      assertEquals((int) crc.getValue(), crcs.getInt(), "chunk at " + at);
    }
  }

  @Test
  void aForgedOrBorrowedSignatureGetsNothing() throws Exception {
    String token = api.register("forger").getString("token");
    assertEquals(201, api.deposit(token, "a.bin", random(1024 * 1024, 1), 1, null).statusCode());
    assertEquals(201, api.deposit(token, "b.bin", random(1024 * 1024, 2), 1, null).statusCode());
    String a = localLink(token, "a.bin");
    String b = localLink(token, "b.bin");

    HttpResponse<String> tampered = get(a.replaceAll("sig=[^&]+", "sig=AAAA"));
    assertEquals(403, tampered.statusCode());
    assertEquals("forbidden", new JsonObject(tampered.body()).getString("error"));
    // b's signature on a's blob id: a link signs one blob only.
    String aOnB = a.substring(0, a.indexOf('?')) + b.substring(b.indexOf('?'));
    assertEquals(403, get(aOnB).statusCode());
  }

  @Test
  void aSmallFileKeptInAPackIsReadOverHttp() throws Exception {
    String token = api.register("packed").getString("token");
    byte[] small = random(10_000, 3);
    assertEquals(201, api.deposit(token, "small.bin", small, 2, null).statusCode());

    HttpResponse<String> answer = get(localLink(token, "small.bin"));
    assertEquals(409, answer.statusCode(), answer.body());
    assertEquals("conflict", new JsonObject(answer.body()).getString("error"));
    assertArrayEquals(small, api.retrieve(token, "small.bin").body());
  }
}
