package depot.it;

import depot.protocol.DepotException;
import depot.protocol.ErrorCode;
import depot.protocol.InventoryDigest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static depot.it.DepositRetrieveIT.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Versions, deduplication, isolation, replica changes, and every bad input getting its error with nothing stored. */
class FilesBehaviourIT extends ClusterTestBase {

  /** Replicas held by all storage nodes, as each node's own index reports them (files and packs alike). */
  static long replicaFiles() throws Exception {
    long n = 0;
    for (String node : cluster.storageNodeIds()) {
      JsonObject inv = TestCluster.await(cluster.anyVertx().eventBus().<JsonObject>request(
          "depot.storage.node." + node, new JsonObject().put("action", "inventory"))).body();
      n += inv.getJsonArray("blobIds").size();
    }
    return n;
  }

  /** Every replica as "node/blobId": what a test added, whatever earlier tests' garbage collection removes meanwhile. */
  static Set<String> replicaSet() throws Exception {
    Set<String> all = new HashSet<>();
    for (String node : cluster.storageNodeIds()) {
      askStorage(node, new JsonObject().put("action", "inventory")).getJsonArray("blobIds")
          .forEach(id -> all.add(node + "/" + id));
    }
    return all;
  }

  /** Sends every request at once, on a client of its own so many connections stay out of the shared pool. */
  static List<HttpResponse<String>> sendAtOnce(List<HttpRequest> requests) throws Exception {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
    requests.forEach(r -> sent.add(http.sendAsync(r, HttpResponse.BodyHandlers.ofString())));
    List<HttpResponse<String>> answers = new ArrayList<>();
    for (CompletableFuture<HttpResponse<String>> answer : sent) {
      answers.add(answer.get(60, TimeUnit.SECONDS));
    }
    return answers;
  }

  static long tempFiles() throws Exception {
    long n = 0;
    for (String node : cluster.storageNodeIds()) {
      try (Stream<Path> walk = Files.list(cluster.dataDir(node).resolve("tmp"))) {
        n += walk.count();
      }
    }
    return n;
  }

  static void assertError(HttpResponse<String> r, int status, String code) {
    assertEquals(status, r.statusCode(), r.body());
    assertEquals(code, new JsonObject(r.body()).getString("error"), r.body());
    assertFalse(new JsonObject(r.body()).getString("message", "").isBlank());
  }

  static JsonObject askStorage(String node, JsonObject command) throws Exception {
    return TestCluster.await(cluster.anyVertx().eventBus().<JsonObject>request("depot.storage.node." + node, command)).body();
  }

  @Test
  void aStorageNodeSumsItsReplicasUpInADigestAndListsABucketOnRequest() throws Exception {
    String token = api.register("digest").getString("token");
    for (int i = 0; i < 8; i++) {
      assertEquals(201, api.deposit(token, "d" + i, ("digest " + i).getBytes(), 3, null).statusCode());
    }
    String node = cluster.storageNodeIds().get(0);
    List<String> ids = new ArrayList<>();
    String digest = null;
    // Replicas of earlier tests may still be being collected: ask until the two answers agree.
    for (int attempt = 0; attempt < 50 && !InventoryDigest.of(ids).encode().equals(digest); attempt++) {
      ids.clear();
      askStorage(node, new JsonObject().put("action", "inventory")).getJsonArray("blobIds").forEach(id -> ids.add((String) id));
      digest = askStorage(node, new JsonObject().put("action", "inventoryDigest")).getString("digest");
      Thread.sleep(100);
    }
    assertEquals(InventoryDigest.of(ids).encode(), digest, "the digest sums up the replicas the node lists");

    int bucket = InventoryDigest.bucketOf(ids.get(0));
    List<String> inBucket = ids.stream().filter(id -> InventoryDigest.bucketOf(id) == bucket).toList();
    JsonArray listed = askStorage(node, new JsonObject().put("action", "inventory").put("buckets", new JsonArray().add(bucket)))
        .getJsonArray("blobIds");
    assertEquals(new java.util.HashSet<>(inBucket), new java.util.HashSet<>(listed.getList()));

    for (Object bad : List.of(InventoryDigest.BUCKETS, -1, "seven")) {
      java.util.concurrent.ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
          java.util.concurrent.ExecutionException.class, () -> askStorage(node,
              new JsonObject().put("action", "inventory").put("buckets", new JsonArray().add(bad))));
      assertEquals(ErrorCode.BAD_REQUEST, DepotException.from(e.getCause()).code(), "bucket " + bad);
    }
  }

  @Test
  void replacingANameBumpsTheVersionAndServesTheNewBytes() throws Exception {
    String token = api.register("versioner").getString("token");
    assertEquals(201, api.deposit(token, "notes.txt", "first".getBytes(), 2, null).statusCode());
    HttpResponse<String> second = api.deposit(token, "notes.txt", "second version".getBytes(), 2, null);
    assertEquals(201, second.statusCode());
    assertEquals(2, new JsonObject(second.body()).getLong("version"));
    assertArrayEquals("second version".getBytes(), api.retrieve(token, "notes.txt").body());
    assertEquals(1, new JsonObject(api.get(token, "/api/v1/files").body()).getJsonArray("files").size());
  }

  @Test
  void sameContentIsStoredOnceAndNeedsNoUpload() throws Exception {
    String token = api.register("deduper").getString("token");
    byte[] data = random(300_000, 7);
    String sha = Api.sha256(data);
    assertEquals(201, api.deposit(token, "a.bin", data, 3, sha).statusCode());
    long filesBefore = replicaFiles();

    // Announce the hash, expect 100-continue, and never send the body: the server must answer 201 at once.
    URI uri = URI.create(cluster.baseUrl());
    try (Socket s = new Socket(uri.getHost(), uri.getPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(("PUT /api/v1/files/b.bin?replicas=3 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token
          + "\r\nX-Depot-Sha256: " + sha + "\r\nContent-Length: " + data.length
          + "\r\nExpect: 100-continue\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[4096];
      int n = in.read(buf);
      String head = new String(buf, 0, n, StandardCharsets.ISO_8859_1);
      assertTrue(head.startsWith("HTTP/1.1 201"), head);
      assertTrue(head.toLowerCase().contains("x-depot-dedup: true"), head);
    }
    assertEquals(filesBefore, replicaFiles(), "no new replica files for known content");
    HttpResponse<byte[]> got = api.retrieve(token, "b.bin");
    assertArrayEquals(data, got.body());

    // Another client with the same content gets its own copy: dedup never crosses clients.
    String other = api.register("other").getString("token");
    HttpResponse<String> r = api.deposit(other, "mine.bin", data, 1, sha);
    assertEquals(201, r.statusCode());
    assertFalse(r.headers().firstValue("X-Depot-Dedup").isPresent());
  }

  /**
   * The same content deposited under several names at once, its hash announced: the first upload stores it, the
   * others wait for that one to commit and point at its replicas. Before, each stored a copy of its own.
   */
  @Test
  void sameContentDepositedAtOnceIsStoredOnce() throws Exception {
    String token = api.register("burst-" + System.nanoTime()).getString("token");
    byte[] data = random(2_000_000, 21);
    String sha = Api.sha256(data);
    Set<String> before = replicaSet();
    List<HttpRequest> deposits = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      deposits.add(api.req("/api/v1/files/copy" + i + ".bin?replicas=2", token).header("X-Depot-Sha256", sha)
          .PUT(HttpRequest.BodyPublishers.ofByteArray(data)).build());
    }
    int deduplicated = 0;
    Set<String> nodeSets = new HashSet<>();
    for (HttpResponse<String> r : sendAtOnce(deposits)) {
      assertEquals(201, r.statusCode(), r.body());
      JsonObject record = new JsonObject(r.body());
      assertEquals(sha, record.getString("sha256"));
      deduplicated += record.getBoolean("deduplicated") ? 1 : 0;
      nodeSets.add(record.getJsonArray("nodes").encode());
    }
    assertEquals(5, deduplicated, "one upload stored it, the five others pointed at it");
    assertEquals(1, nodeSets.size(), "every name shows the same two replicas: " + nodeSets);
    Set<String> added = replicaSet();
    added.removeAll(before);
    assertEquals(2, added.size(), "two replicas in all, not twelve: " + added);
    for (int i = 0; i < 6; i++) {
      assertArrayEquals(data, api.retrieve(token, "copy" + i + ".bin").body());
    }
  }

  /**
   * Without X-Depot-Sha256 the body has to come (the content is unknown until hashed), but content this client
   * already holds is not kept twice: the new name points at the held replicas and the copy just written goes.
   */
  @Test
  void contentSentAgainWithoutItsHashIsNotKeptTwice() throws Exception {
    String token = api.register("plain-" + System.nanoTime()).getString("token");
    byte[] data = random(1_500_000, 31);
    assertEquals(201, api.deposit(token, "first.bin", data, 2, null).statusCode());
    Set<String> held = replicaSet();

    HttpResponse<String> again = api.deposit(token, "second.bin", data, 2, null);
    assertEquals(201, again.statusCode(), again.body());
    JsonObject record = new JsonObject(again.body());
    assertTrue(record.getBoolean("deduplicated"), again.body());
    assertEquals(new JsonObject(api.get(token, "/api/v1/files/first.bin/meta").body()).getJsonArray("nodes"),
        record.getJsonArray("nodes"), "the same replicas");
    long deadline = System.currentTimeMillis() + 30_000;
    Set<String> added = replicaSet();
    added.removeAll(held);
    while (!added.isEmpty() && System.currentTimeMillis() < deadline) {
      Thread.sleep(200);
      added = replicaSet();
      added.removeAll(held);
    }
    assertEquals(Set.of(), added, "the second copy was dropped");
    assertArrayEquals(data, api.retrieve(token, "second.bin").body());
    assertArrayEquals(data, api.retrieve(token, "first.bin").body());
  }

  @Test
  void clientsSeeOnlyTheirOwnFiles() throws Exception {
    String alice = api.register("alice").getString("token");
    String mallory = api.register("mallory").getString("token");
    assertEquals(201, api.deposit(alice, "secret.txt", "top secret".getBytes(), 2, null).statusCode());

    assertError(api.get(mallory, "/api/v1/files/secret.txt/meta"), 404, "not_found");
    HttpResponse<byte[]> steal = api.retrieve(mallory, "secret.txt");
    assertEquals(404, steal.statusCode());
    assertError(api.delete(mallory, "secret.txt"), 404, "not_found");
    assertError(api.setReplicas(mallory, "secret.txt", 1), 404, "not_found");
    JsonArray malloryFiles = new JsonObject(api.get(mallory, "/api/v1/files").body()).getJsonArray("files");
    assertTrue(malloryFiles.stream().noneMatch(f -> ((JsonObject) f).getString("name").equals("secret.txt")));
    assertArrayEquals("top secret".getBytes(), api.retrieve(alice, "secret.txt").body());
    // The admin sees everyone's files; a client token cannot list nodes.
    JsonArray all = new JsonObject(api.get(TestCluster.ADMIN_TOKEN, "/api/v1/files").body()).getJsonArray("files");
    assertTrue(all.stream().anyMatch(f -> ((JsonObject) f).getString("name").equals("secret.txt")));
    assertError(api.get(alice, "/api/v1/nodes"), 403, "forbidden");
  }

  @Test
  void replicaCountGoesUpAndDown() throws Exception {
    String token = api.register("replicator").getString("token");
    byte[] data = random(500_000, 11);
    assertEquals(201, api.deposit(token, "r.bin", data, 1, null).statusCode());
    HttpResponse<String> up = api.setReplicas(token, "r.bin", 3);
    assertEquals(200, up.statusCode(), up.body());
    JsonObject rec = new JsonObject(up.body());
    assertEquals(3, rec.getInteger("replicas"));
    assertEquals(3, rec.getInteger("liveReplicas"));
    assertEquals(3, rec.getJsonArray("nodes").size());

    HttpResponse<String> down = api.setReplicas(token, "r.bin", 1);
    assertEquals(200, down.statusCode(), down.body());
    assertEquals(1, new JsonObject(down.body()).getInteger("liveReplicas"));
    assertArrayEquals(data, api.retrieve(token, "r.bin").body());

    assertError(api.setReplicas(token, "r.bin", 4), 400, "too_many_replicas");
    assertError(api.setReplicas(token, "r.bin", 0), 400, "invalid_replicas");
    assertError(api.setReplicas(token, "r.bin", "two"), 400, "invalid_replicas");
  }

  @Test
  void badInputsGetClearErrorsAndStoreNothing() throws Exception {
    String token = api.register("careless").getString("token");
    long before = replicaFiles();
    byte[] data = "hello".getBytes();

    assertError(api.deposit(token, "..", data, 1, null), 400, "invalid_name");
    assertError(api.deposit(token, ".", data, 1, null), 400, "invalid_name");
    assertError(api.deposit(token, "a/b", data, 1, null), 400, "invalid_name");
    assertError(api.deposit(token, "nul\u0000name", data, 1, null), 400, "invalid_name");
    assertError(api.deposit(token, "tab\tname", data, 1, null), 400, "invalid_name");
    assertError(api.deposit(token, "x".repeat(256), data, 1, null), 400, "invalid_name");
    assertError(api.deposit(token, "", data, 1, null), 400, "invalid_name");
    HttpResponse<String> patch = api.send(api.req("/api/v1/files/ok.txt", token)
        .method("PATCH", HttpRequest.BodyPublishers.ofString("x")).build());
    assertError(patch, 405, "method_not_allowed");
    assertEquals("GET, HEAD, PUT, DELETE", patch.headers().firstValue("Allow").orElse(""));
    assertError(api.deposit(token, "ok.txt", data, 4, null), 400, "too_many_replicas");
    assertError(api.deposit(token, "ok.txt", data, 0, null), 400, "invalid_replicas");
    assertError(api.send(api.req("/api/v1/files/ok.txt?replicas=abc", token)
        .PUT(HttpRequest.BodyPublishers.ofByteArray(data)).build()), 400, "invalid_replicas");
    assertError(api.deposit(token, "ok.txt", data, 1, "0".repeat(64)), 400, "hash_mismatch");
    assertError(api.deposit(token, "ok.txt", data, 1, "not-a-hash"), 400, "bad_request");
    assertError(api.deposit("wrong-token", "ok.txt", data, 1, null), 401, "unauthorized");
    assertError(api.deposit(null, "ok.txt", data, 1, null), 401, "unauthorized");
    assertError(api.deposit(TestCluster.ADMIN_TOKEN, "ok.txt", data, 1, null), 403, "forbidden");
    assertError(api.get(token, "/api/v1/files/missing.txt/meta"), 404, "not_found");
    assertError(api.send(api.req("/api/v1/clients", null).POST(HttpRequest.BodyPublishers.ofString("{not json")).build()),
        400, "bad_request");
    assertError(api.send(api.req("/api/v1/clients", null).POST(HttpRequest.BodyPublishers.ofString("{\"nickname\":\"\"}")).build()),
        400, "bad_request");

    // A truncated upload: announce 1 MiB, send 1000 bytes, hang up.
    URI uri = URI.create(cluster.baseUrl());
    try (Socket s = new Socket(uri.getHost(), uri.getPort())) {
      OutputStream out = s.getOutputStream();
      out.write(("PUT /api/v1/files/short.bin?replicas=3 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token
          + "\r\nContent-Length: 1048576\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(new byte[1000]);
      out.flush();
    }
    Thread.sleep(1500);
    assertError(api.get(token, "/api/v1/files/short.bin/meta"), 404, "not_found");
    assertEquals(0, new JsonObject(api.get(token, "/api/v1/files").body()).getJsonArray("files").size());
    assertEquals(before, replicaFiles(), "no replica was left behind by refused deposits");
    assertEquals(0, tempFiles(), "no half-written temp file stays");
  }

  /**
   * A name in the path is percent-encoded UTF-8. Anything else is refused with a JSON error, not stored under a
   * name with U+FFFD in it, where three different malformed names would have met the same file.
   */
  @Test
  void namesThatAreNotPercentEncodedUtf8AreRefusedAndStoreNothing() throws Exception {
    String token = api.register("encoder-" + System.nanoTime()).getString("token");
    long before = replicaFiles();
    byte[] data = "bytes".getBytes();
    for (String bad : List.of("%C3", "%C0%AF", "%ED%A0%80", "%FF.txt", "a%%bc", "%zz", "ab%4", "a%")) {
      Api.Raw put = api.raw("PUT", "/api/v1/files/" + bad + "?replicas=1", token, data);
      assertEquals(400, put.status(), bad + ": " + put.body());
      assertEquals("invalid_name", put.error(), bad);
      Api.Raw meta = api.raw("GET", "/api/v1/files/" + bad + "/meta", token, null);
      assertEquals("invalid_name", meta.error(), bad + ": " + meta.body());
    }
    assertEquals(0, new JsonObject(api.get(token, "/api/v1/files").body()).getJsonArray("files").size());
    assertEquals(before, replicaFiles(), "no replica was left behind by refused names");

    // Valid UTF-8 is taken however it was sent: escaped, as raw octets, or a real U+FFFD.
    assertEquals("\uFFFD", depositedName(api.raw("PUT", "/api/v1/files/%EF%BF%BD?replicas=1", token, data)));
    assertEquals("\u00e9t\u00e9.txt", depositedName(api.raw("PUT",
        new String("/api/v1/files/\u00e9t\u00e9.txt?replicas=1".getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1),
        token, data)));
    assertEquals("x%y", depositedName(api.raw("PUT", "/api/v1/files/x%25y?replicas=1", token, data)));
    assertEquals("a+b", depositedName(api.raw("PUT", "/api/v1/files/a+b?replicas=1", token, data)));
    assertArrayEquals(data, api.retrieve(token, "\u00e9t\u00e9.txt").body());

    // The same for what the router refuses on other paths, and for a broken query string.
    Api.Raw path = api.raw("GET", "/api/v1/nodes%zz", TestCluster.ADMIN_TOKEN, null);
    assertEquals(400, path.status(), path.body());
    assertEquals("bad_request", path.error());
    Api.Raw query = api.raw("GET", "/api/v1/files?q=%zz", token, null);
    assertEquals(400, query.status(), query.body());
    assertEquals("bad_request", query.error());
  }

  /**
   * Deposits of one name at once commit in one journal batch. Each must be answered with the record of its own
   * version (its size and SHA-256), not with whichever deposit of the batch was applied last.
   */
  @Test
  void concurrentDepositsOfOneNameAreEachAnsweredWithTheirOwnVersion() throws Exception {
    String token = api.register("racer-" + System.nanoTime()).getString("token");
    long before = replicaFiles();
    try {
      depositOneNameAtOnce(token, 16);
    } finally {
      // Leave the replica count as it was: other tests count replicas, and replaced versions go after a grace.
      api.delete(token, "raced.bin");
      long deadline = System.currentTimeMillis() + 60_000;
      while (replicaFiles() != before && System.currentTimeMillis() < deadline) {
        Thread.sleep(250);
      }
    }
    assertEquals(before, replicaFiles(), "every version's replicas went once the file was deleted");
  }

  private void depositOneNameAtOnce(String token, int n) throws Exception {
    List<byte[]> contents = new ArrayList<>();
    List<HttpRequest> deposits = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      byte[] data = random(50_000 + i * 1000, 100 + i);
      contents.add(data);
      deposits.add(api.req("/api/v1/files/raced.bin?replicas=2", token).PUT(HttpRequest.BodyPublishers.ofByteArray(data)).build());
    }
    List<HttpResponse<String>> answers = sendAtOnce(deposits);
    Set<Long> versions = new TreeSet<>();
    JsonObject newest = null;
    for (int i = 0; i < n; i++) {
      HttpResponse<String> r = answers.get(i);
      assertEquals(201, r.statusCode(), r.body());
      JsonObject record = new JsonObject(r.body());
      assertEquals(Api.sha256(contents.get(i)), record.getString("sha256"), "deposit " + i + " answered with another's record");
      assertEquals(contents.get(i).length, record.getLong("size"));
      versions.add(record.getLong("version"));
      if (newest == null || record.getLong("version") > newest.getLong("version")) {
        newest = record;
      }
    }
    assertEquals(n, versions.size(), "every deposit made a version of its own: " + versions);
    JsonObject meta = new JsonObject(api.get(token, "/api/v1/files/raced.bin/meta").body());
    assertEquals(newest.getLong("version"), meta.getLong("version"));
    assertEquals(newest.getString("sha256"), meta.getString("sha256"));
    assertEquals(newest.getString("sha256"), Api.sha256(api.retrieve(token, "raced.bin").body()));
  }

  /** The admin token reaches one client's file through {@code ?owner=}; an unknown owner is a 404, not a 401. */
  @Test
  void theAdminAddressesAClientsFileByOwner() throws Exception {
    JsonObject client = api.register("owned-" + System.nanoTime());
    String token = client.getString("token");
    String owner = client.getString("clientId");
    byte[] data = "the admin may look".getBytes();
    assertEquals(201, api.deposit(token, "owned.txt", data, 1, null).statusCode());
    String admin = TestCluster.ADMIN_TOKEN;

    HttpResponse<String> meta = api.get(admin, "/api/v1/files/owned.txt/meta?owner=" + owner);
    assertEquals(200, meta.statusCode(), meta.body());
    assertEquals(owner, new JsonObject(meta.body()).getString("owner"));
    assertArrayEquals(data, api.http.send(api.req("/api/v1/files/owned.txt?owner=" + owner, admin).GET().build(),
        HttpResponse.BodyHandlers.ofByteArray()).body());
    assertError(api.get(admin, "/api/v1/files/owned.txt/meta"), 400, "bad_request");
    assertError(api.get(admin, "/api/v1/files/owned.txt/meta?owner=no-such-client"), 404, "not_found");
    // A client's own token ignores ?owner=: it cannot reach another client's file that way.
    String other = api.register("nosy-" + System.nanoTime()).getString("token");
    assertError(api.get(other, "/api/v1/files/owned.txt/meta?owner=" + owner), 404, "not_found");
  }

  @Test
  void anOversizedJsonBodyGetsAJsonError() throws Exception {
    byte[] big = new JsonObject().put("nickname", "n".repeat(100_000)).encode().getBytes(StandardCharsets.UTF_8);
    // Through Api.raw: refused on its Content-Length, the body is never sent, so no reset can cut the answer.
    Api.Raw answer = api.raw("POST", "/api/v1/clients", null, big);
    assertEquals(413, answer.status(), answer.body());
    assertEquals("too_large", answer.error());
  }

  private static String depositedName(Api.Raw answer) {
    assertEquals(201, answer.status(), answer.body());
    return new JsonObject(answer.body()).getString("name");
  }

  /**
   * A deposit refused before its body is read is answered at once and the connection closed: a sender that
   * writes its whole body before reading (the CLI does) gets an error instead of waiting on a full socket.
   */
  @Test
  void aDepositRefusedBeforeItsBodyIsAnsweredAndTheConnectionClosed() throws Exception {
    String token = api.register("early-" + System.nanoTime()).getString("token");
    URI uri = URI.create(cluster.baseUrl());
    try (Socket s = new Socket(uri.getHost(), uri.getPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(("PUT /api/v1/files/big.bin?replicas=99 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token
          + "\r\nContent-Length: " + (256L << 20) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(new byte[1 << 20]); // 1 MiB of the 256 MiB announced
      out.flush();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream answer = new ByteArrayOutputStream();
      byte[] buf = new byte[4096];
      try {
        for (int n; (n = in.read(buf)) >= 0; ) {
          answer.write(buf, 0, n);
        }
      } catch (java.net.SocketException reset) {
        // closed with the body unread: a reset after the answer is as good as an end of stream
      }
      String text = answer.toString(StandardCharsets.ISO_8859_1);
      assertTrue(text.startsWith("HTTP/1.1 400"), text);
      assertTrue(text.contains("too_many_replicas"), text);
    }
  }

  @Test
  void nodesShowTheirClockOffsetFromHeartbeats() throws Exception {
    long deadline = System.currentTimeMillis() + 10_000;
    JsonArray nodes;
    do {
      Thread.sleep(200);
      nodes = new JsonObject(api.get(TestCluster.ADMIN_TOKEN, "/api/v1/nodes").body()).getJsonArray("nodes");
    } while (nodes.stream().anyMatch(n -> ((JsonObject) n).getLong("clockOffsetMs") == null)
        && System.currentTimeMillis() < deadline);
    for (Object o : nodes) {
      JsonObject n = (JsonObject) o;
      Long offset = n.getLong("clockOffsetMs");
      // One host, one clock: the estimate is off by at most about half a heartbeat round trip.
      assertTrue(offset != null && Math.abs(offset) < 500, n.encode());
    }
  }

  @Test
  void theLeaderSynchronisesClocksBerkeleyStyle() throws Exception {
    HttpResponse<String> r = api.get(TestCluster.ADMIN_TOKEN, "/api/v1/clocks");
    assertEquals(200, r.statusCode(), r.body());
    JsonObject round = new JsonObject(r.body());
    assertEquals("main", round.getString("master"));
    JsonArray nodes = round.getJsonArray("nodes");
    assertEquals(4, nodes.size(), r.body());
    long agreed = round.getLong("agreedOffsetMs");
    for (Object o : nodes) {
      JsonObject n = (JsonObject) o;
      // Every node is told the correction that brings it to the agreed time.
      assertEquals(agreed, n.getLong("offsetMs") + n.getLong("correctionMs"), n.encode());
      assertTrue(Math.abs(n.getLong("offsetMs")) < 500, "one host, one clock: " + n.encode());
    }
    // The nodes keep their correction and report it with their heartbeats.
    long deadline = System.currentTimeMillis() + 5_000;
    JsonArray listed;
    do {
      Thread.sleep(200);
      listed = new JsonObject(api.get(TestCluster.ADMIN_TOKEN, "/api/v1/nodes").body()).getJsonArray("nodes");
    } while (listed.stream().anyMatch(n -> ((JsonObject) n).getLong("clockCorrectionMs") == null)
        && System.currentTimeMillis() < deadline);
    listed.forEach(n -> assertTrue(((JsonObject) n).getLong("clockCorrectionMs") != null, ((JsonObject) n).encode()));
    String client = api.register("curious").getString("token");
    assertError(api.get(client, "/api/v1/clocks"), 403, "forbidden");
  }

  @Test
  void aRegistrationSentAgainMakesNoSecondClient() throws Exception {
    var bus = cluster.anyVertx().eventBus();
    String token = "a-token-chosen-by-the-gateway";
    String clientId = java.util.UUID.randomUUID().toString();
    JsonObject registration = new JsonObject().put("nickname", "twice").put("clientId", clientId)
        .put("tokenHash", Api.sha256(token.getBytes(StandardCharsets.UTF_8)));
    // As the gateway does while leadership moves: the same request again, the first answer wins.
    JsonObject first = TestCluster.await(bus.<JsonObject>request("depot.coordinator.client.register", registration)).body();
    JsonObject again = TestCluster.await(bus.<JsonObject>request("depot.coordinator.client.register", registration)).body();
    assertEquals(clientId, first.getString("clientId"));
    assertEquals(first, again);
    JsonArray clients = TestCluster.await(bus.<JsonObject>request("depot.coordinator.client.list", new JsonObject()))
        .body().getJsonArray("clients");
    assertEquals(1, clients.stream().filter(c -> clientId.equals(((JsonObject) c).getString("clientId"))).count(), clients.encode());
    assertEquals(200, api.get(token, "/api/v1/files").statusCode(), "the token the gateway chose works");

    Throwable err = null;
    try {
      TestCluster.await(bus.request("depot.coordinator.client.register",
          registration.copy().put("tokenHash", Api.sha256("another".getBytes(StandardCharsets.UTF_8)))));
    } catch (Exception e) {
      err = e.getCause();
    }
    assertTrue(err != null && err.getMessage().contains("conflict"), String.valueOf(err));
    err = null;
    try {
      TestCluster.await(bus.request("depot.coordinator.client.register", new JsonObject().put("nickname", "no id")));
    } catch (Exception e) {
      err = e.getCause();
    }
    assertTrue(err != null && err.getMessage().contains("bad_request"), String.valueOf(err));
  }

  private static HttpResponse<String> registerWithKey(String nickname, String key) throws Exception {
    return api.send(api.req("/api/v1/clients", null).header("Content-Type", "application/json")
        .header("Idempotency-Key", key)
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("nickname", nickname).encode())).build());
  }

  private static int clientCount() throws Exception {
    return TestCluster.await(cluster.anyVertx().eventBus().<JsonObject>request("depot.coordinator.client.list",
        new JsonObject())).body().getJsonArray("clients").size();
  }

  /** A client that sends its registration again with the same Idempotency-Key gets the same client back. */
  @Test
  void aRegistrationSentAgainWithItsKeyGetsTheSameClient() throws Exception {
    String key = java.util.UUID.randomUUID().toString();
    HttpResponse<String> first = registerWithKey("keyed", key);
    assertEquals(201, first.statusCode(), first.body());
    int clients = clientCount();
    HttpResponse<String> again = registerWithKey("keyed", key);
    assertEquals(201, again.statusCode(), again.body());
    JsonObject a = new JsonObject(first.body());
    JsonObject b = new JsonObject(again.body());
    assertEquals(a.getString("clientId"), b.getString("clientId"));
    assertEquals(a.getString("token"), b.getString("token"));
    assertEquals(clients, clientCount(), "no second client");
    assertEquals(200, api.get(b.getString("token"), "/api/v1/files").statusCode());

    HttpResponse<String> otherKey = registerWithKey("keyed", java.util.UUID.randomUUID().toString());
    assertEquals(201, otherKey.statusCode(), otherKey.body());
    assertNotEquals(a.getString("clientId"), new JsonObject(otherKey.body()).getString("clientId"));

    int before = clientCount();
    assertError(registerWithKey("someone else", key), 409, "conflict");
    assertError(registerWithKey("keyed", "too-short"), 400, "bad_request");
    assertError(registerWithKey("keyed", "spaces are not allowed in it"), 400, "bad_request");
    assertEquals(before, clientCount(), "refused registrations add nobody");
  }

  @Test
  void malformedEventBusMessagesAreRefused() throws Exception {
    var bus = cluster.anyVertx().eventBus();
    for (String address : new String[] {"depot.coordinator.deposit.begin", "depot.coordinator.file.list",
        "depot.directory.register", "depot.storage.node.storage-1"}) {
      Throwable err = null;
      try {
        TestCluster.await(bus.request(address, "not json"));
      } catch (Exception e) {
        err = e.getCause() != null ? e.getCause() : e;
      }
      assertTrue(err != null && err.getMessage().contains("bad_request"), address + ": " + err);
    }
    Throwable err = null;
    try {
      TestCluster.await(bus.request("depot.coordinator.deposit.begin",
          new JsonObject().put("owner", "nobody").put("name", "x").put("size", 1)));
    } catch (Exception e) {
      err = e.getCause();
    }
    assertTrue(err != null && err.getMessage().contains("not_found") && err.getMessage().contains("no client with id 'nobody'"),
        String.valueOf(err));
    err = null;
    try {
      TestCluster.await(bus.request("depot.storage.node.storage-1",
          new JsonObject().put("action", "delete").put("blobIds", new JsonArray().add("../../etc/passwd"))));
    } catch (Exception e) {
      err = e.getCause();
    }
    assertTrue(err != null && err.getMessage().contains("malformed blob id"), String.valueOf(err));
  }
}
