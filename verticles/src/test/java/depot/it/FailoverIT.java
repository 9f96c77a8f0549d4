package depot.it;

import depot.protocol.Addresses;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Coordinator and directory failover on a real cluster: two directories, two coordinators, a gateway of its
 * own and three storage nodes, each its own clustered Vert.x instance. Leaders are stopped under the
 * cluster's feet; the standby must lead within 10 s with the complete catalog, deposits in flight must
 * complete or fail with a clear error, a coordinator that lost its disk must rebuild the catalog from
 * the copies kept on the storage nodes, and a storage node that lost its disk is filled again. The steps build on each other and run in order.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FailoverIT {
  static TestCluster cluster;
  static Api api;
  static String token;
  static final Map<String, byte[]> deposited = new LinkedHashMap<>();
  static final List<JsonObject> elections = new CopyOnWriteArrayList<>();
  static MessageConsumer<JsonObject> electionEvents;

  @BeforeAll
  static void up() throws Exception {
    cluster = TestCluster.empty(new JsonObject());
    cluster.startNode("dir-a", new JsonArray().add("directory"));
    // Listening from the first node on: the first elections happen while the cluster starts.
    electionEvents = cluster.vertx("dir-a").eventBus().consumer(Addresses.ELECTION_EVENTS, m -> elections.add(m.body()));
    TestCluster.await(electionEvents.completion());
    cluster.startNode("dir-b", new JsonArray().add("directory"));
    cluster.startNode("coord-a", new JsonArray().add("coordinator"));
    cluster.startNode("coord-b", new JsonArray().add("coordinator"));
    for (int i = 1; i <= 3; i++) {
      cluster.startNode("storage-" + i, new JsonArray().add("storage"));
    }
    cluster.startNode("main", new JsonArray().add("gateway"));
    cluster.awaitStorageNodes(3);
    cluster.awaitCoordinatorLeader();
    api = new Api(cluster.baseUrl());
    token = api.register("failover").getString("token");
  }

  @AfterAll
  static void down() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  static JsonArray nodes() throws Exception {
    HttpResponse<String> r = api.get(TestCluster.ADMIN_TOKEN, "/api/v1/nodes");
    assertEquals(200, r.statusCode(), r.body());
    return new JsonObject(r.body()).getJsonArray("nodes");
  }

  static JsonObject election() throws Exception {
    HttpResponse<String> r = api.get(TestCluster.ADMIN_TOKEN, "/api/v1/admin/election");
    assertEquals(200, r.statusCode(), r.body());
    return new JsonObject(r.body());
  }

  static int rankOf(String nodeId) throws Exception {
    return nodes().stream().map(o -> (JsonObject) o).filter(n -> nodeId.equals(n.getString("id")))
        .findFirst().orElseThrow().getInteger("rank");
  }

  /** The leader of a group once it is the one expected (or any leader when {@code expected} is null). */
  static String awaitLeader(String group, String expected, long timeoutMs) throws Exception {
    return awaitLeaderAmong(group, expected == null ? List.of() : List.of(expected), timeoutMs);
  }

  /** The leader of a group once it is one of {@code expected} (any leader when that is empty). */
  static String awaitLeaderAmong(String group, List<String> expected, long timeoutMs) throws Exception {
    long deadline = System.currentTimeMillis() + timeoutMs;
    String leader = null;
    while (System.currentTimeMillis() < deadline) {
      leader = election().getJsonObject(group).getString("leader");
      if (leader != null && (expected.isEmpty() || expected.contains(leader))) {
        return leader;
      }
      Thread.sleep(100);
    }
    throw new AssertionError(group + " leader is " + leader + ", expected " + expected + " within " + timeoutMs + " ms");
  }

  static String deposit(String name, int size) throws Exception {
    byte[] data = new byte[size];
    new Random(name.hashCode()).nextBytes(data);
    HttpResponse<String> r = api.deposit(token, name, data, 2, null);
    assertEquals(201, r.statusCode(), r.body());
    deposited.put(name, data);
    return name;
  }

  /** How many catalog copies the leader counts in step, once that is {@code wanted} (or after 20 s). */
  static long awaitFollowersInSync(long wanted) throws Exception {
    long deadline = System.currentTimeMillis() + 20_000;
    long inSync = 0;
    while (inSync < wanted && System.currentTimeMillis() < deadline) {
      inSync = new JsonObject(api.get(TestCluster.ADMIN_TOKEN, "/api/v1/stats").body()).getLong("catalogFollowersInSync", 0L);
      Thread.sleep(100);
    }
    return inSync;
  }

  static void assertEveryDepositRetrieves() throws Exception {
    for (Map.Entry<String, byte[]> e : deposited.entrySet()) {
      HttpResponse<byte[]> got = api.retrieve(token, e.getKey());
      assertEquals(200, got.statusCode(), e.getKey());
      assertArrayEquals(e.getValue(), got.body(), e.getKey() + " differs");
    }
  }

  @Test
  @Order(1)
  void theLiveCoordinatorWithTheHighestRankLeadsAndIsMarked() throws Exception {
    String expected = rankOf("coord-a") > rankOf("coord-b") ? "coord-a" : "coord-b";
    String leader = awaitLeader("coordinator", expected, 15_000);
    List<JsonObject> marked = nodes().stream().map(o -> (JsonObject) o).filter(n -> n.getBoolean("leader")).toList();
    assertEquals(1, marked.size(), "exactly one node is marked leader: " + marked);
    assertEquals(leader, marked.get(0).getString("id"));
    assertTrue(marked.get(0).getJsonArray("leads").contains("coordinator"));
    JsonArray candidates = election().getJsonObject("coordinator").getJsonArray("candidates");
    assertEquals(2, candidates.size(), candidates.encode());
    assertTrue(elections.stream().anyMatch(e -> "coordinator".equals(e.getString("group")) && leader.equals(e.getString("leader"))),
        "the election was announced on " + Addresses.ELECTION_EVENTS + ": " + elections);
    String directory = awaitLeader("directory", null, 5_000);
    assertTrue(directory.startsWith("dir-"), directory);
  }

  @Test
  @Order(2)
  void everyStorageNodeAndTheStandbyKeepACopyOfTheCatalog() throws Exception {
    for (int i = 0; i < 20; i++) {
      deposit("before-" + i + ".bin", 1000 + i * 5000);
    }
    JsonObject stats = new JsonObject(api.get(TestCluster.ADMIN_TOKEN, "/api/v1/stats").body());
    String leader = awaitLeader("coordinator", null, 1000);
    long lamport = stats.getLong("lamport");
    for (String copy : List.of("storage-1", "storage-2", "storage-3", leader.equals("coord-a") ? "coord-b" : "coord-a")) {
      long deadline = System.currentTimeMillis() + 10_000;
      long at = -1;
      while (System.currentTimeMillis() < deadline) {
        at = TestCluster.await(cluster.anyVertx().eventBus().<JsonObject>request(Addresses.catalogReplica(copy),
            new JsonObject().put("action", "status"))).body().getLong("lamport");
        if (at >= lamport) {
          break;
        }
        Thread.sleep(100);
      }
      assertTrue(at >= lamport, copy + "'s copy is at lamport " + at + ", the leader at " + lamport);
    }
  }

  @Test
  @Order(3)
  void whenTheLeaderDiesTheStandbyLeadsWithinTenSecondsWithTheWholeCatalog() throws Exception {
    String old = awaitLeader("coordinator", null, 1000);
    String standby = old.equals("coord-a") ? "coord-b" : "coord-a";
    long started = System.currentTimeMillis();
    cluster.stopNode(old);
    awaitLeader("coordinator", standby, 10_000);
    // The first request after the takeover answers, from the standby's copy of the catalog.
    HttpResponse<String> list = api.get(token, "/api/v1/files?limit=1000");
    long tookMs = System.currentTimeMillis() - started;
    assertEquals(200, list.statusCode(), list.body());
    System.out.printf("coordinator failover: %s -> %s serving again after %d ms%n", old, standby, tookMs);
    assertTrue(tookMs < 10_000, "took " + tookMs + " ms");
    assertEquals(deposited.size(), new JsonObject(list.body()).getInteger("total"));
    assertEveryDepositRetrieves();
    deposit("after-failover.bin", 300_000);
  }

  @Test
  @Order(4)
  void aDepositInFlightWhileTheLeaderChangesCompletesOrFailsClearly() throws Exception {
    cluster.startNode("coord-c", new JsonArray().add("coordinator"));
    // coord-c has the highest rank: it leads once it holds the catalog.
    String leader = awaitLeader("coordinator", "coord-c", 20_000);
    byte[] data = new byte[6 * 1024 * 1024];
    new Random(7).nextBytes(data);
    // The body trickles in over ~3 s; the leader hands over (a triggered election) in the middle.
    CompletableFuture<HttpResponse<String>> upload = api.http.sendAsync(api.req("/api/v1/files/in-flight.bin?replicas=2", token)
        .PUT(slowBody(data, 3000)).build(), HttpResponse.BodyHandlers.ofString());
    Thread.sleep(1000);
    HttpResponse<String> triggered = api.send(api.req("/api/v1/admin/election", TestCluster.ADMIN_TOKEN)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"group\":\"coordinator\"}")).build());
    assertEquals(200, triggered.statusCode(), triggered.body());
    JsonObject result = new JsonObject(triggered.body());
    assertTrue(result.getJsonObject("coordinator").getLong("term") > result.getLong("previousTerm"), result.encode());
    HttpResponse<String> r = upload.get(60, TimeUnit.SECONDS);
    if (r.statusCode() == 201) {
      deposited.put("in-flight.bin", data);
    } else {
      assertEquals(503, r.statusCode(), r.body());
      assertTrue(new JsonObject(r.body()).getString("message").length() > 5, r.body());
    }
    System.out.printf("deposit across a handover from %s: HTTP %d%n", leader, r.statusCode());
    assertEveryDepositRetrieves();
  }

  @Test
  @Order(5)
  void aCoordinatorThatLostItsDiskRebuildsTheCatalogFromTheStorageNodes() throws Exception {
    for (String c : List.of("coord-a", "coord-b", "coord-c")) {
      if (cluster.vertx(c) != null) {
        cluster.stopNode(c);
      }
    }
    TestCluster.deleteTree(cluster.dataDir("coord-c"));
    cluster.startNode("coord-c", new JsonArray().add("coordinator"));
    awaitLeader("coordinator", "coord-c", 20_000);
    HttpResponse<String> list = api.get(token, "/api/v1/files?limit=1000");
    assertEquals(200, list.statusCode(), list.body());
    assertEquals(deposited.size(), new JsonObject(list.body()).getInteger("total"), list.body());
    assertEveryDepositRetrieves();
    deposit("after-rebuild.bin", 50_000);
    // The rebuilt leader leads in a later term than any copy has seen, so the copies follow it again.
    assertEquals(3, awaitFollowersInSync(3), "the three storage nodes follow the rebuilt catalog");
  }

  @Test
  @Order(6)
  void oldCoordinatorsThatReturnBringBackNothingDeletedOrReplaced() throws Exception {
    // coord-a and coord-b were stopped with catalogs of an older term; meanwhile one file goes and one changes.
    assertEquals(204, api.delete(token, "before-0.bin").statusCode());
    deposited.remove("before-0.bin");
    byte[] replaced = new byte[70_000];
    new Random(99).nextBytes(replaced);
    HttpResponse<String> r = api.deposit(token, "before-1.bin", replaced, 2, null);
    assertEquals(201, r.statusCode(), r.body());
    assertEquals(2, new JsonObject(r.body()).getInteger("version"));
    deposited.put("before-1.bin", replaced);
    cluster.startNode("coord-a", new JsonArray().add("coordinator"));
    cluster.startNode("coord-b", new JsonArray().add("coordinator"));
    assertEquals(5, awaitFollowersInSync(5), "three storage nodes and the two returning coordinators follow the leader");
    // Now the returning ones must lead: whatever they had on disk, they serve the current catalog.
    cluster.stopNode("coord-c");
    awaitLeaderAmong("coordinator", List.of("coord-a", "coord-b"), 10_000);
    HttpResponse<String> gone = api.get(token, "/api/v1/files/before-0.bin/meta");
    assertEquals(404, gone.statusCode(), "a deleted file came back: " + gone.body());
    JsonObject meta = new JsonObject(api.get(token, "/api/v1/files/before-1.bin/meta").body());
    assertEquals(2, meta.getInteger("version"), meta.encode());
    assertEquals(Api.sha256(replaced), meta.getString("sha256"));
    HttpResponse<String> list = api.get(token, "/api/v1/files?limit=1000");
    assertEquals(deposited.size(), new JsonObject(list.body()).getInteger("total"), list.body());
    assertEveryDepositRetrieves();
  }

  @Test
  @Order(7)
  void whenTheLeadingDirectoryDiesTheOtherTakesOverAndStillDetectsDeadNodes() throws Exception {
    String old = awaitLeader("directory", null, 1000);
    String standby = old.equals("dir-a") ? "dir-b" : "dir-a";
    cluster.stopNode(old);
    awaitLeader("directory", standby, 10_000);
    long deadline = System.currentTimeMillis() + 10_000;
    boolean listed = false;
    while (!listed && System.currentTimeMillis() < deadline) {
      listed = nodes().stream().map(o -> (JsonObject) o).filter(n -> n.getString("id").startsWith("storage-"))
          .filter(n -> "UP".equals(n.getString("status"))).count() == 3;
      Thread.sleep(100);
    }
    assertTrue(listed, "the new directory lists the three storage nodes UP: " + nodes());
    cluster.stopNode("storage-3");
    long stopped = System.currentTimeMillis();
    String status = "UP";
    while (!"DOWN".equals(status) && System.currentTimeMillis() - stopped < 10_000) {
      status = nodes().stream().map(o -> (JsonObject) o).filter(n -> "storage-3".equals(n.getString("id")))
          .findFirst().map(n -> n.getString("status")).orElse("gone");
      Thread.sleep(100);
    }
    assertEquals("DOWN", status, "the new directory expires a node that stops beating");
    assertNotEquals(old, awaitLeader("directory", null, 1000));
    assertFalse(deposited.isEmpty());
    assertEveryDepositRetrieves();
  }

  @Test
  @Order(8)
  void aStorageNodeThatLostItsDiskIsFilledAgainAndFollowsTheCatalogAgain() throws Exception {
    cluster.startNode("storage-3", new JsonArray().add("storage"));
    AtomicInteger copied = new AtomicInteger();
    MessageConsumer<JsonObject> copies = cluster.anyVertx().eventBus().consumer(Addresses.COORDINATOR_EVENTS, m -> {
      if ("replica.added".equals(m.body().getString("type"))) {
        copied.incrementAndGet();
      }
    });
    TestCluster.await(copies.completion());
    cluster.stopNode("storage-1");
    TestCluster.deleteTree(cluster.dataDir("storage-1"));
    cluster.startNode("storage-1", new JsonArray().add("storage"));
    cluster.awaitStorageNodes(3);
    // Done when the replicas the storage nodes themselves report add up to two per file again.
    long deadline = System.currentTimeMillis() + 60_000;
    JsonObject stats = new JsonObject();
    long onDisks = -1;
    while (System.currentTimeMillis() < deadline) {
      stats = new JsonObject(api.get(TestCluster.ADMIN_TOKEN, "/api/v1/stats").body());
      onDisks = nodes().stream().map(o -> (JsonObject) o).filter(n -> n.getString("id").startsWith("storage-"))
          .mapToLong(n -> n.getLong("replicas", 0L)).sum();
      if (onDisks == 2L * deposited.size() && stats.getLong("underReplicated", -1L) == 0
          && stats.getLong("repairsRunning", -1L) == 0) {
        break;
      }
      Thread.sleep(200);
    }
    TestCluster.await(copies.unregister());
    assertTrue(copied.get() > 0, "what the disk held was copied again");
    assertEquals(2L * deposited.size(), onDisks, "replicas on the storage nodes' disks, two per file: " + nodes() + ", " + stats.encode());
    assertEquals(0L, stats.getLong("underReplicated"), "every file has its replicas again: " + stats.encode());
    assertEquals(0L, stats.getLong("lost"), stats.encode());
    assertEveryDepositRetrieves();
    // Its copy of the catalog went with the disk: it follows from a fresh snapshot.
    long lamport = stats.getLong("lamport");
    long at = -1;
    long until = System.currentTimeMillis() + 20_000;
    while (at < lamport && System.currentTimeMillis() < until) {
      at = TestCluster.await(cluster.anyVertx().eventBus().<JsonObject>request(Addresses.catalogReplica("storage-1"),
          new JsonObject().put("action", "status"))).body().getLong("lamport");
      Thread.sleep(100);
    }
    assertTrue(at >= lamport, "storage-1's new copy of the catalog is at lamport " + at + ", the leader at " + lamport);
  }

  /** A body sent in small pieces over about {@code spreadMs}. */
  static HttpRequest.BodyPublisher slowBody(byte[] data, long spreadMs) {
    int pieces = 60;
    int piece = (data.length + pieces - 1) / pieces;
    Flow.Publisher<ByteBuffer> publisher = subscriber -> {
      Thread sender = new Thread(() -> {
        java.util.concurrent.Semaphore demand = new java.util.concurrent.Semaphore(0);
        subscriber.onSubscribe(new Flow.Subscription() {
          @Override
          public void request(long n) {
            demand.release((int) Math.min(n, Integer.MAX_VALUE / 2));
          }

          @Override
          public void cancel() {
          }
        });
        try {
          for (int off = 0; off < data.length; off += piece) {
            demand.acquire();
            subscriber.onNext(ByteBuffer.wrap(data, off, Math.min(piece, data.length - off)));
            Thread.sleep(spreadMs / pieces);
          }
          subscriber.onComplete();
        } catch (InterruptedException e) {
          subscriber.onError(e);
        }
      });
      sender.setDaemon(true);
      sender.start();
    };
    return HttpRequest.BodyPublishers.fromPublisher(publisher, data.length);
  }
}
