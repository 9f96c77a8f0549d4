package depot.it;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code PUT ...?direct=1} with {@code Expect: 100-continue}: the gateway answers 307 with a signed link to
 * the storage node heading the pipeline, the client sends the body there, and that node finishes the
 * deposit (as WebHDFS's two-step create does). A link that is forged, altered, or used with the wrong body
 * stores nothing.
 */
class DirectUploadIT extends ClusterTestBase {

  /** One HTTP/1.1 exchange on a plain socket; the body is sent only after "100 Continue". */
  record Answer(int status, Map<String, String> headers, String body, boolean bodySent) {}

  static Answer put(URI uri, Map<String, String> headers, byte[] body, long contentLength) throws IOException {
    try (Socket socket = new Socket(uri.getHost(), uri.getPort())) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      InputStream in = new BufferedInputStream(socket.getInputStream());
      StringBuilder head = new StringBuilder("PUT " + uri.getRawPath()
          + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()) + " HTTP/1.1\r\n")
          .append("Host: ").append(uri.getHost()).append(':').append(uri.getPort()).append("\r\n")
          .append("Content-Length: ").append(contentLength).append("\r\n")
          .append("Expect: 100-continue\r\nConnection: close\r\n");
      headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
      out.write(head.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      Answer first = read(in, false);
      if (first.status() != 100) {
        return first;
      }
      out.write(body);
      out.flush();
      return read(in, true);
    }
  }

  private static Answer read(InputStream in, boolean bodySent) throws IOException {
    String status = line(in);
    Map<String, String> headers = new LinkedHashMap<>();
    for (String h; !(h = line(in)).isEmpty(); ) {
      int colon = h.indexOf(':');
      headers.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
    }
    int code = Integer.parseInt(status.split(" ")[1]);
    if (code == 100) {
      return new Answer(100, headers, "", false);
    }
    int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
    return new Answer(code, headers, new String(in.readNBytes(length), StandardCharsets.UTF_8), bodySent);
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b; (b = in.read()) != '\n'; ) {
      if (b == -1) {
        throw new IOException("connection closed mid-answer");
      }
      if (b != '\r') {
        line.write(b);
      }
    }
    return line.toString(StandardCharsets.ISO_8859_1);
  }

  /** Asks the gateway for a direct deposit; returns the link it redirects to (nothing sent yet). */
  private static URI link(String token, String name, byte[] data, String sha) throws IOException {
    Answer redirect = put(URI.create(api.base + "/api/v1/files/" + Api.enc(name) + "?replicas=3&direct=1"),
        Map.of("Authorization", "Bearer " + token, "X-Depot-Sha256", sha), data, data.length);
    assertEquals(307, redirect.status(), redirect.body());
    assertTrue(!redirect.bodySent());
    String location = redirect.headers().get("location");
    assertNotNull(location);
    assertTrue(location.contains("/direct/v1/uploads/"), location);
    return URI.create(location);
  }

  private static boolean listed(String token, String name) throws Exception {
    return new JsonObject(api.get(token, "/api/v1/files").body()).getJsonArray("files").stream()
        .anyMatch(f -> name.equals(((JsonObject) f).getString("name")));
  }

  @Test
  void aDepositGoesStraightToItsPipelineHead() throws Exception {
    String token = api.register("direct").getString("token");
    byte[] data = DepositRetrieveIT.random(5 * 1024 * 1024 + 3, 11);
    String sha = Api.sha256(data);

    URI link = link(token, "direct.bin", data, sha);
    Answer stored = put(link, Map.of("X-Depot-Sha256", sha), data, data.length);

    assertEquals(201, stored.status(), stored.body());
    JsonObject record = new JsonObject(stored.body());
    assertEquals("direct.bin", record.getString("name"));
    assertEquals(sha, record.getString("sha256"));
    assertEquals(3, record.getInteger("liveReplicas"));
    assertEquals("\"" + sha + "\"", stored.headers().get("etag"));
    assertEquals("/api/v1/files/direct.bin", stored.headers().get("location"));
    for (String node : cluster.storageNodeIds()) {
      assertEquals(1, DepositRetrieveIT.replicaFilesOn(cluster.dataDir(node), sha), "replica on " + node);
    }
    HttpResponse<byte[]> got = api.retrieve(token, "direct.bin");
    assertArrayEquals(data, got.body());
  }

  @Test
  void aForgedOrMisusedLinkStoresNothing() throws Exception {
    String token = api.register("mallory").getString("token");
    byte[] data = DepositRetrieveIT.random(3 * 1024 * 1024, 12);
    String sha = Api.sha256(data);
    URI link = link(token, "guarded.bin", data, sha);
    String query = link.getRawQuery();

    // Another signature, an altered ticket, a ticket for another blob: 403 before any byte is taken.
    URI badSig = URI.create(link.toString().replaceAll("sig=[^&]+", "sig=AAAA"));
    assertEquals(403, put(badSig, Map.of(), data, data.length).status());
    String ticket = query.substring(query.indexOf("t=") + 2, query.indexOf('&'));
    String altered = ticket.substring(0, ticket.length() - 2) + (ticket.endsWith("A") ? "BB" : "AA");
    assertEquals(403, put(URI.create(link.toString().replace(ticket, altered)), Map.of(), data, data.length).status());
    URI otherBlob = URI.create(link.toString().replaceFirst("/uploads/[^?]+", "/uploads/" + java.util.UUID.randomUUID()));
    assertEquals(403, put(otherBlob, Map.of(), data, data.length).status());
    // A length other than the announced size.
    assertEquals(400, put(link, Map.of(), data, data.length - 1).status());
    assertEquals(false, listed(token, "guarded.bin"));

    // The genuine link with other bytes than the announced SHA-256: refused, nothing stored anywhere.
    byte[] other = DepositRetrieveIT.random(data.length, 13);
    Answer wrong = put(link, Map.of(), other, other.length);
    assertEquals(400, wrong.status(), wrong.body());
    assertTrue(wrong.body().contains("hash_mismatch"), wrong.body());
    assertEquals(false, listed(token, "guarded.bin"));
    long deadline = System.currentTimeMillis() + 10_000;
    long left;
    do {
      left = 0;
      for (String node : cluster.storageNodeIds()) {
        left += DepositRetrieveIT.replicaFilesOn(cluster.dataDir(node), Api.sha256(other));
        left += DepositRetrieveIT.replicaFilesOn(cluster.dataDir(node), sha);
      }
      if (left > 0) {
        Thread.sleep(200);
      }
    } while (left > 0 && System.currentTimeMillis() < deadline);
    assertEquals(0, left, "the aborted deposit's replicas are removed");
  }

  /**
   * A link serves one upload. Used again within its minute it wrote the blob again, over the committed replicas:
   * without an announced SHA-256, other bytes replaced the file's content under the first one's hash.
   */
  @Test
  void aLinkUsedAgainIsRefusedAndTheStoredFileKeepsItsBytes() throws Exception {
    String token = api.register("reuser").getString("token");
    byte[] data = DepositRetrieveIT.random(3 * 1024 * 1024, 14);
    byte[] other = DepositRetrieveIT.random(data.length, 15);
    Answer redirect = put(URI.create(api.base + "/api/v1/files/once.bin?replicas=3&direct=1"),
        Map.of("Authorization", "Bearer " + token), data, data.length);
    assertEquals(307, redirect.status(), redirect.body());
    URI link = URI.create(redirect.headers().get("location"));
    Answer stored = put(link, Map.of(), data, data.length);
    assertEquals(201, stored.status(), stored.body());

    for (byte[] body : List.of(other, data)) {
      Answer again = put(link, Map.of(), body, body.length);
      assertEquals(409, again.status(), again.body());
      assertTrue(again.body().contains("conflict"), again.body());
    }
    assertArrayEquals(data, api.retrieve(token, "once.bin").body());
    assertEquals(Api.sha256(data), new JsonObject(api.get(token, "/api/v1/files/once.bin/meta").body()).getString("sha256"));
    for (String node : cluster.storageNodeIds()) {
      assertEquals(1, DepositRetrieveIT.replicaFilesOn(cluster.dataDir(node), Api.sha256(data)), "replica on " + node);
      assertEquals(0, DepositRetrieveIT.replicaFilesOn(cluster.dataDir(node), Api.sha256(other)), "nothing of the second body on " + node);
    }
  }

  @Test
  void withoutExpectContinueTheGatewayRelaysAsBefore() throws Exception {
    String token = api.register("plain").getString("token");
    byte[] data = DepositRetrieveIT.random(2 * 1024 * 1024, 14);
    HttpResponse<String> put = api.send(api.req("/api/v1/files/plain.bin?direct=1", token)
        .PUT(java.net.http.HttpRequest.BodyPublishers.ofByteArray(data)).build());
    assertEquals(201, put.statusCode(), "a client that sends its body at once is never redirected");
  }

  private static HttpResponse<String> depositAvoiding(String token, String name, String avoid, int replicas) throws Exception {
    return api.send(api.req("/api/v1/files/" + Api.enc(name) + "?replicas=" + replicas, token)
        .header("X-Depot-Avoid", avoid)
        .PUT(java.net.http.HttpRequest.BodyPublishers.ofString("content of " + name)).build());
  }

  /**
   * A client that lost a storage node in the middle of a direct upload (only it saw that) names the node when
   * it tries again ({@code X-Depot-Avoid}): its deposits go elsewhere. Its word moves only its own deposits,
   * and naming every node still leaves the deposit its write quorum.
   */
  @Test
  void aClientsDepositGoesAroundTheNodesItLost() throws Exception {
    String token = api.register("avoiding").getString("token");
    Map<String, String> urls = cluster.storageUrls();
    String lost = urls.get("storage-2");
    for (int i = 0; i < 6; i++) {
      HttpResponse<String> put = depositAvoiding(token, "around-" + i, lost + "/", 2);
      assertEquals(201, put.statusCode(), put.body());
      assertTrue(!new JsonObject(put.body()).getJsonArray("nodes").contains("storage-2"), put.body());
    }
    // A direct upload too: the link does not lead to the node named.
    byte[] data = DepositRetrieveIT.random(2 * 1024 * 1024, 15);
    Answer redirect = put(URI.create(api.base + "/api/v1/files/around-direct?replicas=1&direct=1"),
        Map.of("Authorization", "Bearer " + token, "X-Depot-Avoid", lost), data, data.length);
    assertEquals(307, redirect.status(), redirect.body());
    assertTrue(!redirect.headers().get("location").startsWith(lost + "/"), redirect.headers().get("location"));

    // Three replicas on three nodes: a node suspected for everyone would be left out (the quorum is two), so
    // this does not hang on which node the byte counts, refreshed by heartbeats, happen to favour.
    String other = api.register("trusting").getString("token");
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> put = api.deposit(other, "plain-" + i, ("plain " + i).getBytes(StandardCharsets.UTF_8), 3,
          null);
      assertEquals(201, put.statusCode(), put.body());
      assertTrue(new JsonObject(put.body()).getJsonArray("nodes").contains("storage-2"),
          "another client's deposits still go to the node the first one named: " + put.body());
    }

    HttpResponse<String> all = depositAvoiding(token, "everything-lost", String.join(",", urls.values()), 3);
    assertEquals(201, all.statusCode(), all.body());
    assertTrue(new JsonObject(all.body()).getJsonArray("nodes").size() >= 2, all.body());
  }

  @Test
  void aMalformedAvoidHeaderIsRefusedAndStoresNothing() throws Exception {
    String token = api.register("avoid-garbage").getString("token");
    for (String bad : new String[] {"file:///etc/passwd", "not a url", "http://", "x,".repeat(40)}) {
      HttpResponse<String> put = depositAvoiding(token, "garbage", bad, 2);
      assertEquals(400, put.statusCode(), bad + ": " + put.body());
      assertTrue(put.body().contains("X-Depot-Avoid"), put.body());
    }
    assertEquals(false, listed(token, "garbage"));
  }
}
